// Bytes per interface and failovers, from sock_diag samples of the subflows.
// The kernel keeps byte counts per subflow only while the subflow lives, so each
// sample adds what every subflow moved since the one before; a subflow that closes
// keeps what was counted, and loses what it moved after its last sample (at most one
// sample interval's worth; a subflow that lives less than one interval is not seen).
import type { SubflowSocket } from "../netlink/index.js";

export interface TrafficSinks {
  bytes(iface: string, sent: number, received: number): void;
  failover(from: string, to: string, seconds: number): void;
}

interface Seen {
  acked: number;
  received: number;
}

interface PendingFailover {
  readonly from: string;
  readonly since: number;
  /** Bytes of the connection's other subflows when the last active one went. */
  readonly before: ReadonlyMap<string, number>;
}

/** A failover that has not seen data flow within this long is dropped. */
export const FAILOVER_TIMEOUT_MS = 60_000;

export class TrafficAccounting {
  private seen = new Map<string, Seen>();
  private baseline = true;
  private readonly pending = new Map<string, PendingFailover>();
  /** Subflows per interface in the last sample. */
  subflowsPerIface: ReadonlyMap<string, number> = new Map();

  constructor(
    private readonly ifaceOf: (s: SubflowSocket) => string,
    private readonly sinks: TrafficSinks,
  ) {}

  /** A failover is waited for: sample more often. */
  get waiting(): boolean {
    return this.pending.size > 0;
  }

  /**
   * One sample (now: monotonic ms). The first one only sets the baseline: bytes moved
   * before the daemon started are not its to count.
   */
  sample(now: number, subflows: readonly SubflowSocket[]): void {
    const next = new Map<string, Seen>();
    const perIface = new Map<string, number>();
    for (const s of subflows) {
      const iface = this.ifaceOf(s);
      perIface.set(iface, (perIface.get(iface) ?? 0) + 1);
      const key = keyOf(s);
      const acked = s.tcp?.bytes_acked ?? 0;
      const received = s.tcp?.bytes_received ?? 0;
      const last = this.seen.get(key);
      next.set(key, { acked, received });
      if (this.baseline) continue;
      // A key reused by a new subflow starts again from 0: count it from there.
      const sent = last && acked >= last.acked ? acked - last.acked : acked;
      const got = last && received >= last.received ? received - last.received : received;
      if (sent > 0 || got > 0) this.sinks.bytes(iface, sent, got);
    }
    this.seen = next;
    this.baseline = false;
    this.subflowsPerIface = perIface;
    this.checkFailovers(now, subflows);
  }

  /**
   * A connection lost its last active subflow (closed or stale) on `from`: the
   * failover ends when data flows on a subflow of another interface.
   */
  lostLastActive(token: string, from: string, now: number): void {
    if (this.pending.has(token)) return;
    const before = new Map<string, number>();
    for (const [key, seen] of this.seen) if (key.startsWith(`${token} `)) before.set(key, seen.acked + seen.received);
    this.pending.set(token, { from, since: now, before });
  }

  /** The connection closed: no failover to wait for. */
  closed(token: string): void {
    this.pending.delete(token);
  }

  private checkFailovers(now: number, subflows: readonly SubflowSocket[]): void {
    for (const [token, pending] of this.pending) {
      if (now - pending.since > FAILOVER_TIMEOUT_MS) {
        this.pending.delete(token);
        continue;
      }
      const moved = subflows.find(
        (s) =>
          s.token === token &&
          this.ifaceOf(s) !== pending.from &&
          (s.tcp?.bytes_acked ?? 0) + (s.tcp?.bytes_received ?? 0) > (pending.before.get(keyOf(s)) ?? 0),
      );
      if (!moved) continue;
      this.pending.delete(token);
      this.sinks.failover(pending.from, this.ifaceOf(moved), (now - pending.since) / 1000);
    }
  }
}

function keyOf(s: SubflowSocket): string {
  return `${s.token} ${s.saddr} ${s.sport} ${s.daddr} ${s.dport}`;
}
