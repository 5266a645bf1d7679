// Token buckets that keep a flapping link from causing a subflow storm: one per
// connection and one for the whole daemon. An action is carried out only when both
// have a token left; the others are dropped and logged.

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

class Bucket {
  private tokens: number;
  private updated: number;
  constructor(
    private readonly settings: BucketSettings,
    now: number,
  ) {
    this.tokens = settings.burst;
    this.updated = now;
  }

  refill(now: number): void {
    this.tokens = Math.min(this.settings.burst, this.tokens + ((now - this.updated) / 1000) * this.settings.rate);
    this.updated = now;
  }

  has(): boolean {
    return this.tokens >= 1;
  }

  take(): void {
    this.tokens -= 1;
  }
}

export class RateLimiter {
  private readonly perConnection = new Map<string, Bucket>();
  private readonly global: Bucket;

  constructor(
    private readonly connectionSettings: BucketSettings = DEFAULT_PER_CONNECTION,
    globalSettings: BucketSettings = DEFAULT_GLOBAL,
    private readonly clock: () => number = Date.now,
  ) {
    this.global = new Bucket(globalSettings, clock());
  }

  /** Take a token for an action on `token` (or a connection-less action); false when over the limit. */
  allow(token: string | undefined): "ok" | "connection" | "global" {
    const now = this.clock();
    this.global.refill(now);
    let bucket: Bucket | undefined;
    if (token !== undefined) {
      bucket = this.perConnection.get(token);
      if (!bucket) {
        bucket = new Bucket(this.connectionSettings, now);
        this.perConnection.set(token, bucket);
      }
      bucket.refill(now);
      if (!bucket.has()) return "connection";
    }
    if (!this.global.has()) return "global";
    bucket?.take();
    this.global.take();
    return "ok";
  }

  forget(token: string): void {
    this.perConnection.delete(token);
  }
}
