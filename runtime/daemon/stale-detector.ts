// Stale subflows from samples of their tcp_info: the kernel sends no event when a
// path blackholes (the link stays up, packets vanish), and its own stale flag is
// not visible through sock_diag, so the daemon watches acknowledgement progress.
// A subflow is stale when it has data outstanding (tcpi_unacked > 0) and no byte
// was acknowledged for longer than staleBoundMs(its RTT); it has recovered when
// acknowledged bytes grow again. Pure: samples in, transitions out.

/** What one sample says about one subflow. */
export interface ProgressSample {
  /** Identifies the subflow across samples (its token and four-tuple). */
  readonly key: string;
  readonly unacked: number;
  readonly bytesAcked: number;
  /** Milliseconds since its last acknowledgement (tcpi_last_ack_recv). */
  readonly lastAckRecvMs: number;
  readonly rttUs: number;
  readonly rttvarUs: number;
}

export interface StaleTransition {
  readonly key: string;
  readonly kind: "subflow_stale" | "subflow_recovered";
  /** How long the subflow had gone without progress (ms). */
  readonly stalledMs: number;
}

/** Added to the RTT-derived part: covers delayed acknowledgements and scheduling. */
export const STALE_MARGIN_MS = 100;

/**
 * How long outstanding data may go unacknowledged before the subflow is stale:
 * three smoothed RTTs and four variations (a retransmission timeout's worth of
 * doubt, three times over) plus STALE_MARGIN_MS; 160 ms on a steady 20 ms path.
 */
export function staleBoundMs(rttUs: number, rttvarUs: number): number {
  return (3 * rttUs + 4 * rttvarUs) / 1000 + STALE_MARGIN_MS;
}

interface Progress {
  bytesAcked: number;
  /** When acknowledged bytes last grew, or when nothing was outstanding (ms). */
  progressAt: number;
  stale: boolean;
  seen: number;
}

export class StaleDetector {
  private readonly subflows = new Map<string, Progress>();
  private round = 0;

  /** Feed one sample of every watched subflow taken at `now` (ms); subflows missing from it are forgotten. */
  update(now: number, samples: readonly ProgressSample[]): StaleTransition[] {
    const round = ++this.round;
    const transitions: StaleTransition[] = [];
    for (const sample of samples) {
      const known = this.subflows.get(sample.key);
      if (!known) {
        // First sight: progress as long ago as the last acknowledgement, if data is outstanding.
        this.subflows.set(sample.key, { bytesAcked: sample.bytesAcked, progressAt: sample.unacked > 0 ? now - sample.lastAckRecvMs : now, stale: false, seen: round });
        continue;
      }
      known.seen = round;
      const stalledMs = now - known.progressAt;
      if (sample.bytesAcked > known.bytesAcked) {
        known.bytesAcked = sample.bytesAcked;
        known.progressAt = now - Math.min(sample.lastAckRecvMs, stalledMs);
        if (known.stale) {
          known.stale = false;
          transitions.push({ key: sample.key, kind: "subflow_recovered", stalledMs });
        }
        continue;
      }
      if (sample.unacked === 0) {
        // Nothing outstanding: nothing to wait for. A stale subflow with nothing left has recovered only if acked bytes grew.
        if (!known.stale) known.progressAt = now;
        continue;
      }
      if (!known.stale && stalledMs > staleBoundMs(sample.rttUs, sample.rttvarUs)) {
        known.stale = true;
        transitions.push({ key: sample.key, kind: "subflow_stale", stalledMs });
      }
    }
    for (const [key, progress] of this.subflows) if (progress.seen !== round) this.subflows.delete(key);
    return transitions;
  }

  /** Whether the detector holds a subflow as stale now. */
  isStale(key: string): boolean {
    return this.subflows.get(key)?.stale === true;
  }

  get size(): number {
    return this.subflows.size;
  }
}
