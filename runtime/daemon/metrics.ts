// The daemon's Prometheus metrics (`run --metrics ADDR:PORT`): an observer of the
// daemon (metrics-observer.ts) that counts into a prom-client registry, plus its own
// sock_diag sampling of the subflows for bytes per interface and failover times.
// Labels are bounded: interface names, event and errno names, `file:line` of rules,
// never tokens or addresses. docs/operations.md lists every metric.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { errnoName, SockDiag, type PolicyEvent, type SubflowSocket } from "../netlink/index.js";
import type { Logger } from "./logger.js";
import type { DaemonObserver, DaemonView } from "./metrics-observer.js";
import { TrafficAccounting } from "./metrics-traffic.js";
import { monotonicNow } from "./subflow-sampler.js";

/** How often subflows are sampled for bytes and gauges; while a failover is awaited, FAST_SAMPLE_MS. */
export const METRICS_SAMPLE_MS = 1000;
export const FAST_SAMPLE_MS = 20;

/** MP_RST reason codes (RFC 8684, 3.6). */
const RESET_REASONS = [
  "unspecified",
  "mptcp_specific",
  "lack_of_resources",
  "administratively_prohibited",
  "too_much_outstanding_data",
  "unacceptable_performance",
  "middlebox_interference",
];

export class DaemonMetrics implements DaemonObserver {
  readonly registry = new Registry();
  private view: DaemonView | undefined;
  private diag: SockDiag | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sampleFailures = 0;
  private sampling = false;
  /** Subflows reported stale and not recovered, per connection (`saddr sport`). */
  private readonly stale = new Map<string, Set<string>>();
  private readonly traffic = new TrafficAccounting((s) => this.ifaceOfSubflow(s), {
    bytes: (iface, sent, received) => {
      if (sent > 0) this.bytesSent.inc({ iface }, sent);
      if (received > 0) this.bytesReceived.inc({ iface }, received);
    },
    failover: (from, to, seconds) => {
      this.failovers.inc({ from, to });
      this.failoverSeconds.observe(seconds);
    },
  });

  private readonly events = this.counter("mptcp_policy_events_total", "Kernel MPTCP and interface events received, by event name.", ["event"]);
  private readonly zoneCloses = this.counter("mptcp_policy_zone_crossings_closed_total", "Subflows closed because they crossed their connection's zone (isolate), by cause: join (the peer opened it), start, reload, resync.", ["cause"]);
  private readonly ruleFires = this.counter("mptcp_policy_rule_fires_total", "Events a rule matched, by rule (file:line).", ["rule"]);
  private readonly actions = this.counter(
    "mptcp_policy_actions_total",
    "Actions carried out, by operation and result (ok, dry-run, nothing-to-do, rate-limited, skipped, or the kernel's errno name).",
    ["op", "result"],
  );
  private readonly latency = new Histogram({
    name: "mptcp_policy_event_to_action_seconds",
    help: "Time from an event's arrival to the kernel's acknowledgement of the request it caused.",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  private readonly closes = this.counter(
    "mptcp_policy_subflow_closes_total",
    "Subflows closed, by interface and reason (errno name, MP_RST reason, or none for a clean close).",
    ["iface", "reason"],
  );
  private readonly bytesSent = this.counter(
    "mptcp_policy_bytes_sent_total",
    "Bytes sent on subflows and acknowledged by the peer, by interface, since the daemon started (sampled: see docs/operations.md).",
    ["iface"],
  );
  private readonly bytesReceived = this.counter(
    "mptcp_policy_bytes_received_total",
    "Bytes received on subflows, by interface, since the daemon started (sampled: see docs/operations.md).",
    ["iface"],
  );
  private readonly failovers = this.counter(
    "mptcp_policy_failovers_total",
    "Connections that lost their last active subflow and then moved data on another interface.",
    ["from", "to"],
  );
  private readonly failoverSeconds = new Histogram({
    name: "mptcp_policy_failover_seconds",
    help: "Time from losing the last active subflow to data flowing on another interface.",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [this.registry],
  });
  private readonly kernelErrors = this.counter("mptcp_policy_kernel_errors_total", "Requests the kernel refused, by command and errno name.", [
    "command",
    "errno",
  ]);
  private readonly resyncs = this.counter("mptcp_policy_resyncs_total", "Rebuilds of the connection table from sock_diag, by cause (start, overflow).", [
    "cause",
  ]);
  private readonly reloadFailures = this.counter("mptcp_policy_reload_failures_total", "Reloads rejected because the new policy had errors.", []);
  private readonly reloads = this.counter("mptcp_policy_reloads_total", "Policies put in force after start (reloads that succeeded).", []);
  private readonly policyInfo = new Gauge({
    name: "mptcp_policy_policy_loaded",
    help: "The policy in force: 1, labelled with the SHA-256 of its files and the path manager strategy.",
    labelNames: ["sha256", "strategy"],
    registers: [this.registry],
  });
  private readonly policyTime = new Gauge({
    name: "mptcp_policy_policy_loaded_timestamp_seconds",
    help: "When the policy in force was loaded (Unix time).",
    registers: [this.registry],
  });
  private loads = 0;

  constructor(private readonly logger: Logger) {
    const self = this;
    new Gauge({
      name: "mptcp_policy_connections",
      help: "MPTCP connections the daemon follows.",
      registers: [this.registry],
      collect() {
        this.set(self.view?.table.connections.size ?? 0);
      },
    });
    new Gauge({
      name: "mptcp_policy_subflows",
      help: "Established subflows, by interface (last sample).",
      labelNames: ["iface"],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [iface, n] of self.traffic.subflowsPerIface) this.set({ iface }, n);
      },
    });
  }

  private counter(name: string, help: string, labelNames: string[]): Counter<string> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  started(view: DaemonView): void {
    this.view = view;
    this.diag = new SockDiag();
    this.schedule(0);
  }

  stopped(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.diag?.close();
    this.diag = undefined;
  }

  event(event: PolicyEvent): void {
    this.events.inc({ event: event.event });
    if (event.token === undefined) return;
    if (event.event === "closed") {
      this.traffic.closed(event.token);
      this.stale.delete(event.token);
      return;
    }
    if (event.event === "subflow_closed") this.closes.inc({ iface: this.ifaceOfEvent(event), reason: closeReason(event) });
    const key = `${event.saddr} ${event.sport}`;
    if (event.event === "subflow_recovered") this.stale.get(event.token)?.delete(key);
    if (event.event !== "subflow_closed" && event.event !== "subflow_stale") return;
    const stale = this.stale.get(event.token) ?? new Set<string>();
    if (event.event === "subflow_stale") this.stale.set(event.token, stale.add(key));
    else stale.delete(key);
    const connection = this.view?.table.connections.get(event.token);
    const lost = connection?.subflows.find((s) => s.saddr === event.saddr && s.sport === event.sport);
    if (event.event === "subflow_stale" ? lost?.backup === true : event.backup === true) return;
    const activeLeft = (connection?.subflows ?? []).some(
      (s) => !s.backup && !stale.has(`${s.saddr} ${s.sport}`) && !(s.saddr === event.saddr && s.sport === event.sport),
    );
    if (!activeLeft && connection) {
      this.traffic.lostLastActive(event.token, this.ifaceOfEvent(event), monotonicNow());
      // A sample under way schedules the next one itself, at the fast interval now.
      if (!this.sampling) this.schedule(FAST_SAMPLE_MS);
    }
  }

  ruleFired(rule: string): void {
    this.ruleFires.inc({ rule });
  }

  action(op: string, result: string, sinceMs: number): void {
    this.actions.inc({ op, result });
    if (result === "ok") this.latency.observe((Date.now() - sinceMs) / 1000);
  }

  kernelError(command: string, errno: string): void {
    this.kernelErrors.inc({ command, errno });
  }

  zoneClosed(cause: string): void {
    this.zoneCloses.inc({ cause });
  }

  resync(cause: string): void {
    this.resyncs.inc({ cause });
  }

  policyLoaded(files: readonly string[]): void {
    const hash = createHash("sha256");
    for (const file of [...files].sort()) {
      hash.update(file).update("\0");
      try {
        hash.update(readFileSync(file));
      } catch {
        hash.update("(unreadable)");
      }
      hash.update("\0");
    }
    this.policyInfo.reset();
    this.policyInfo.set({ sha256: hash.digest("hex"), strategy: this.view?.strategy() ?? "" }, 1);
    this.policyTime.set(Date.now() / 1000);
    if (this.loads++ > 0) this.reloads.inc();
  }

  reloadFailed(): void {
    this.reloadFailures.inc();
  }

  private schedule(delayMs: number): void {
    if (!this.diag) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.sample(), delayMs);
    this.timer.unref();
  }

  private async sample(): Promise<void> {
    this.timer = undefined;
    const diag = this.diag;
    if (!diag) return;
    this.sampling = true;
    try {
      const subflows = await diag.subflows({ established: true });
      this.traffic.sample(monotonicNow(), subflows);
      this.sampleFailures = 0;
    } catch (error) {
      if (this.sampleFailures++ === 0)
        this.logger.warn({ err: error }, "metrics: could not sample the subflows (sock_diag): bytes and subflow gauges wait for the next sample");
    } finally {
      this.sampling = false;
    }
    this.schedule(this.traffic.waiting ? FAST_SAMPLE_MS : METRICS_SAMPLE_MS);
  }

  private ifaceOfSubflow(s: SubflowSocket): string {
    const tracker = this.view?.tracker;
    const name = s.ifindex !== 0 ? tracker?.nameOf(s.ifindex) : tracker?.interfaceOf(s.saddr)?.ifname;
    return name ?? "unknown";
  }

  private ifaceOfEvent(event: PolicyEvent): string {
    const tracker = this.view?.tracker;
    return (
      event.ifname ??
      (event.ifindex !== undefined ? tracker?.nameOf(event.ifindex) : undefined) ??
      (event.saddr !== undefined ? tracker?.interfaceOf(event.saddr)?.ifname : undefined) ??
      "unknown"
    );
  }
}

/** The reason label of a closed subflow: its errno, else the MP_RST reason, else none. */
function closeReason(event: PolicyEvent): string {
  if (event.error !== undefined && event.error > 0) return errnoName(event.error);
  if (event.reset_reason !== undefined) return `mp_rst_${RESET_REASONS[event.reset_reason] ?? "unknown"}`;
  return "none";
}
