// The live scheduler tiers at run time (compiler/scheduler/live-tiers.ts decides):
// every --scheduler-interval, for each followed connection that a scheduler serves
// and that has more than one subflow, the sampler's subflows become a snapshot (the
// language's metrics from tcp_info), the deciding step's subflows stay active and the
// others become backups. Changes are MP_PRIO requests (SET_FLAGS), at most
// MAX_CHANGES_PER_MINUTE per connection, each logged at debug level and counted.
import type { ConnectionState, ConnectionTable } from "../../compiler/connections.js";
import { evaluateCondition } from "../../compiler/evaluate-condition.js";
import type { InterfaceMatcher } from "../../compiler/interfaces.js";
import type { PolicyModel } from "../../compiler/model.js";
import { chooseTier, LiveTierState, type LiveSubflow } from "../../compiler/scheduler/live-tiers.js";
import type { MetricName } from "../../language/vocabulary.js";
import type { InterfaceTracker, MptcpPathManager, SubflowSocket } from "../netlink/index.js";
import type { Logger } from "./logger.js";
import { StaleDetector } from "./stale-detector.js";
import { subflowKey } from "./stale-watch.js";

/** MP_PRIO changes one connection may get per minute; more wait for the next minute. */
export const MAX_CHANGES_PER_MINUTE = 30;
export const DEFAULT_SCHEDULER_INTERVAL_MS = 500;

export interface LiveTiersContext {
  readonly table: ConnectionTable;
  readonly tracker: InterfaceTracker;
  readonly pm: MptcpPathManager;
  readonly logger: Logger;
  readonly dryRun: boolean;
  readonly intervalMs: number;
  policy(): { readonly model: PolicyModel; readonly matcher: InterfaceMatcher };
}

export class LiveTiers {
  private readonly states = new Map<string, LiveTierState>();
  /** The backup flag the rules gave a subflow, kept once the tiers changed it. */
  private readonly rulesFlag = new Map<string, boolean>();
  /** The flag the tiers last set, to tell a rule's later change from our own. */
  private readonly ours = new Map<string, boolean>();
  private readonly changeTimes = new Map<string, number[]>();
  private readonly detector = new StaleDetector();
  private lastRun = -Infinity;
  readonly stats = { evaluations: 0, changes: 0, deferred: 0 };

  constructor(private readonly context: LiveTiersContext) {}

  onSample(now: number, subflows: readonly SubflowSocket[]): void {
    const { table } = this.context;
    const byToken = new Map<string, SubflowSocket[]>();
    for (const s of subflows) {
      const connection = table.connections.get(s.token);
      if (!connection || connection.subflows.length < 2) continue;
      let list = byToken.get(s.token);
      if (!list) byToken.set(s.token, (list = []));
      list.push(s);
    }
    // Stale needs every sample; the tiers run once per interval.
    this.detector.update(now, [...byToken.values()].flat().flatMap((s) => (s.tcp ? [{ key: subflowKey(s), unacked: s.tcp.unacked, bytesAcked: s.tcp.bytes_acked, lastAckRecvMs: s.tcp.last_ack_recv_ms, rttUs: s.rtt_us ?? 0, rttvarUs: s.rttvar_us ?? 0 }] : [])));
    if (now - this.lastRun < this.context.intervalMs) return;
    this.lastRun = now;
    const { model, matcher } = this.context.policy();
    for (const [token, list] of byToken) {
      const connection = table.connections.get(token)!;
      const index = schedulerOf(model, connection);
      if (index === undefined || list.length < 2) continue;
      this.evaluate(model, index, connection, list, matcher, now);
    }
    for (const token of this.states.keys()) if (!table.connections.has(token)) this.forget(token);
  }

  private evaluate(model: PolicyModel, index: number, connection: ConnectionState, list: readonly SubflowSocket[], matcher: InterfaceMatcher, now: number): void {
    this.stats.evaluations++;
    const scheduler = model.schedulers[index]!;
    const live = list.map((s) => this.liveSubflow(connection, s));
    let state = this.states.get(connection.token);
    if (!state) this.states.set(connection.token, (state = new LiveTierState()));
    const choice = chooseTier(scheduler, snapshotConnection(connection), live, matcher, state.pick);
    const apply = state.offer(choice);
    if (!apply) return;
    for (const [i, s] of list.entries()) {
      const key = live[i]!.key;
      const backup = apply.active === undefined ? live[i]!.backup : !apply.active.includes(key);
      if (backup === s.backup) continue;
      if (!this.allow(connection.token, now)) {
        this.stats.deferred++;
        continue;
      }
      if (!this.rulesFlag.has(key)) this.rulesFlag.set(key, s.backup);
      this.ours.set(key, backup);
      void this.send(connection.token, s, backup, scheduler.name, apply.step);
    }
  }

  private liveSubflow(connection: ConnectionState, s: SubflowSocket): LiveSubflow {
    const key = subflowKey(s);
    // A flag that differs from what the tiers set was changed by a rule: that is the rules' flag now.
    if (this.ours.has(key) && this.ours.get(key) !== s.backup) {
      this.ours.delete(key);
      this.rulesFlag.delete(key);
    }
    const known = connection.subflows.find((k) => k.saddr === s.saddr && k.sport === s.sport && k.daddr === s.daddr && k.dport === s.dport);
    const link = known?.ifname !== undefined ? this.context.tracker.byName(known.ifname) : this.context.tracker.interfaceOf(s.saddr);
    const ifname = known?.ifname ?? link?.ifname ?? "";
    // A subflow whose link is down cannot send, whatever its round-trip time says: never keep it active.
    const active = link === undefined || link.up;
    return { key, ifname, backup: this.rulesFlag.get(key) ?? s.backup, stale: this.detector.isStale(key), active, sndbufFull: false, metrics: metricsOf(s) };
  }

  private allow(token: string, now: number): boolean {
    const recent = (this.changeTimes.get(token) ?? []).filter((t) => now - t < 60_000);
    if (recent.length >= MAX_CHANGES_PER_MINUTE) return false;
    recent.push(now);
    this.changeTimes.set(token, recent);
    return true;
  }

  private async send(token: string, s: SubflowSocket, backup: boolean, scheduler: string, step: number | null): Promise<void> {
    const request = `SET_FLAGS token ${token} ${s.saddr}:${s.sport} -> ${s.daddr}:${s.dport} ${backup ? "backup" : "active"}`;
    const log = this.context.logger.child({ token, scheduler, step, action: "set" });
    if (this.context.dryRun) return void log.debug({ result: "dry-run", request }, "would send (live scheduler tier)");
    try {
      await this.context.pm.setSubflowBackup(token, { address: s.saddr, port: s.sport }, { address: s.daddr, port: s.dport }, backup);
      this.stats.changes++;
      const tracked = this.context.table.connections.get(token)?.subflows.find((k) => k.saddr === s.saddr && k.sport === s.sport);
      if (tracked) tracked.backup = backup;
      log.debug({ result: "ok", request }, "live scheduler tier");
    } catch (error) {
      log.debug({ result: "failed", request, err: error }, "live scheduler tier not applied");
    }
  }

  private forget(token: string): void {
    this.states.delete(token);
    this.changeTimes.delete(token);
    for (const key of [...this.rulesFlag.keys()]) if (key.startsWith(`${token} `)) this.rulesFlag.delete(key);
    for (const key of [...this.ours.keys()]) if (key.startsWith(`${token} `)) this.ours.delete(key);
  }
}

function schedulerOf(model: PolicyModel, connection: ConnectionState): number | undefined {
  const facts = {
    local: connection.saddr,
    remote: connection.daddr,
    localPort: connection.sport,
    remotePort: connection.dport,
    family: connection.family,
    side: connection.serverSide ? ("server" as const) : ("client" as const),
    subflows: connection.subflows.length,
  };
  const index = model.schedulers.findIndex((s) => s.selector === undefined || evaluateCondition(s.selector, facts));
  return index < 0 ? undefined : index;
}

function snapshotConnection(c: ConnectionState) {
  return { family: c.family ?? "ipv4", local: c.saddr ?? "", remote: c.daddr ?? "", localPort: c.sport ?? 0, remotePort: c.dport ?? 0, side: c.serverSide ? "server" : "client" } as const;
}

/** The language's metrics from one subflow's tcp_info, in the kernel's units. */
export function metricsOf(s: SubflowSocket): Record<MetricName, number> {
  const t = s.tcp;
  return {
    rtt: s.rtt_us ?? 0,
    rtt_var: s.rttvar_us ?? 0,
    cwnd: s.cwnd ?? 0,
    // tcp_packets_in_flight(): sent, minus what the receiver has (sacked) or is lost, plus retransmitted.
    inflight: t ? Math.max(0, t.unacked - t.sacked - t.lost + t.retrans) : 0,
    queued: t ? Math.max(0, t.bytes_sent - t.bytes_retrans - t.bytes_acked) + t.notsent_bytes : 0,
    pacing: t?.pacing_rate ?? 0,
    lost: t?.lost ?? 0,
    retrans: t?.retrans ?? 0,
  };
}
