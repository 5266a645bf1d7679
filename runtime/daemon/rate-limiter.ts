// Rate limits that keep a flapping link from causing a subflow storm: one per
// connection and one for the whole daemon. An action is carried out only when both
// allow it; the others are dropped and logged.
//
// Each limit is a token bucket kept as one number (the generic cell rate algorithm):
// the time at which the bucket would be full again. A connection whose bucket is full
// needs no entry at all, so entries are dropped as they refill (oldest first, a few at
// each call): a busy server's open connections, each with its one action long past,
// hold none. A bucket object per open connection cost more than the connection's own
// state.

export interface BucketSettings {
  /** Tokens added per second. */
  readonly rate: number;
  /** Most tokens a bucket holds: the burst allowed after a quiet time. */
  readonly burst: number;
}

export const DEFAULT_PER_CONNECTION: BucketSettings = { rate: 2, burst: 8 };
// The global bucket only stops a policy-wide storm, never normal load: a busy server
// takes tens of thousands of new connections a second, each with its rule's action
// (scripts/bench-daemon.mjs drives 10,000 a second and more), so the bucket is
// well above that. A storm of one connection is the per-connection bucket's.
export const DEFAULT_GLOBAL: BucketSettings = { rate: 50_000, burst: 100_000 };

/** Entries looked at for removal per call: more than one, so the table shrinks under load. */
const SWEEP_PER_CALL = 2;

/** One bucket as a cell rate: `interval` ms per token, `tolerance` ms of burst beyond the first. */
class CellRate {
  readonly interval: number;
  readonly tolerance: number;
  constructor(settings: BucketSettings) {
    this.interval = 1000 / settings.rate;
    this.tolerance = (settings.burst - 1) * this.interval;
  }

  /** The next full-again time if one more token is taken at `now`, or undefined when none is left. */
  take(full: number | undefined, now: number): number | undefined {
    const start = full === undefined || full < now ? now : full;
    return start - now > this.tolerance ? undefined : start + this.interval;
  }
}

export class RateLimiter {
  /** Per connection: when its bucket is full again (ms since `epoch`; small integers stay unboxed). Ordered by last use. */
  private readonly perConnection = new Map<string, number>();
  private readonly connection: CellRate;
  private readonly global: CellRate;
  private globalFull: number | undefined;
  private readonly epoch: number;

  constructor(
    connectionSettings: BucketSettings = DEFAULT_PER_CONNECTION,
    globalSettings: BucketSettings = DEFAULT_GLOBAL,
    private readonly clock: () => number = Date.now,
  ) {
    this.connection = new CellRate(connectionSettings);
    this.global = new CellRate(globalSettings);
    this.epoch = clock();
  }

  /** Take a token for an action on `token` (or a connection-less action); false when over the limit. */
  allow(token: string | undefined): "ok" | "connection" | "global" {
    const now = this.clock() - this.epoch;
    this.sweep(now);
    let connectionFull: number | undefined;
    if (token !== undefined) {
      connectionFull = this.connection.take(this.perConnection.get(token), now);
      if (connectionFull === undefined) return "connection";
    }
    const globalFull = this.global.take(this.globalFull, now);
    if (globalFull === undefined) return "global";
    this.globalFull = globalFull;
    if (token !== undefined && connectionFull !== undefined) {
      // Moved to the end: the map stays in order of last use, so the sweep finds the refilled first.
      this.perConnection.delete(token);
      this.perConnection.set(token, connectionFull);
    }
    return "ok";
  }

  forget(token: string): void {
    this.perConnection.delete(token);
  }

  /** Connections whose bucket is tracked (full ones are dropped): for tests and figures. */
  get tracked(): number {
    return this.perConnection.size;
  }

  private sweep(now: number): void {
    let looked = 0;
    for (const [token, full] of this.perConnection) {
      if (full > now || looked++ >= SWEEP_PER_CALL) return;
      this.perConnection.delete(token);
    }
  }
}
