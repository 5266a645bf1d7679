// Collects the PolicyEvents of a namespace (EventMonitor) so a test can wait for
// the one it expects: `await log.waitFor((e) => e.event === "established")`.
import { existsSync } from "node:fs";
import { EventMonitor, type MonitorOptions } from "../../runtime/netlink/monitor.js";
import type { PolicyEvent } from "../../runtime/netlink/policy-event.js";

export class EventLog {
  readonly events: PolicyEvent[] = [];
  private waiters: { match: (e: PolicyEvent) => boolean; resolve: (e: PolicyEvent) => void }[] = [];

  private constructor(readonly monitor: EventMonitor) {
    monitor.onEvent((event) => {
      this.events.push(event);
      this.waiters = this.waiters.filter((w) => (w.match(event) ? (w.resolve(event), false) : true));
    });
  }

  static async start(options: MonitorOptions): Promise<EventLog> {
    return new EventLog(await EventMonitor.start(options));
  }

  /** The first event (seen already or still to come) that matches. */
  waitFor(match: (e: PolicyEvent) => boolean, timeoutMs = 8000, what = "event"): Promise<PolicyEvent> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${what} within ${timeoutMs} ms; got:\n${this.events.map((e) => JSON.stringify(e)).join("\n")}`)),
        timeoutMs,
      );
      this.waiters.push({ match, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }

  /** Shorthand: the first event of this name whose fields include `fields`. */
  waitForEvent(name: string, fields: Partial<Record<keyof PolicyEvent, unknown>> = {}, timeoutMs?: number): Promise<PolicyEvent> {
    const record = (e: PolicyEvent) => e as unknown as Record<string, unknown>;
    return this.waitFor(
      (e) => e.event === name && Object.entries(fields).every(([k, v]) => record(e)[k] === v),
      timeoutMs,
      `'${name}' ${JSON.stringify(fields)}`,
    );
  }

  close(): void {
    this.monitor.close();
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Root with MPTCP and `ip netns`: what the live tests need. */
export function canRunLab(): boolean {
  return process.getuid?.() === 0 && existsSync("/proc/sys/net/mptcp/enabled");
}
