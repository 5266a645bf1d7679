// The daemon's one sampler of live subflows: a sock_diag dump of the namespace's
// established MPTCP subflows (both families, tcp_info included) every interval,
// handed to whoever needs it (stale detection; the live scheduler tiers). The next
// dump is timed from the end of the last one, so a slow kernel never stacks dumps.
import { SockDiag, type SubflowSocket } from "../netlink/index.js";
import type { Logger } from "./logger.js";

export type SampleListener = (now: number, subflows: readonly SubflowSocket[]) => void;

/** CLOCK_MONOTONIC in milliseconds. */
export function monotonicNow(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export class SubflowSampler {
  private diag: SockDiag | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private failures = 0;
  /** Dumps taken and their total time, for `status` and the benchmark. */
  readonly stats = { samples: 0, subflows: 0, busyMs: 0 };

  constructor(
    readonly intervalMs: number,
    private readonly listener: SampleListener,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.diag = new SockDiag();
    this.schedule();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.diag?.close();
    this.diag = undefined;
  }

  get active(): boolean {
    return this.running;
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => void this.sample(), this.intervalMs);
    this.timer.unref();
  }

  private async sample(): Promise<void> {
    const started = monotonicNow();
    try {
      const subflows = await this.diag!.subflows({ established: true });
      const now = monotonicNow();
      this.stats.samples++;
      this.stats.subflows += subflows.length;
      this.failures = 0;
      this.listener(now, subflows);
      this.stats.busyMs += monotonicNow() - started;
    } catch (error) {
      // Said once per run of failures: a kernel that refuses dumps must not flood the log.
      if (this.failures++ === 0) this.logger.warn({ err: error }, "could not sample the subflows (sock_diag): stale detection waits for the next sample");
    }
    this.schedule();
  }
}
