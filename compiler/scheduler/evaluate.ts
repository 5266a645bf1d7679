// The reference evaluator of schedulers: which scheduler serves a connection and
// which subflow(s) it sends on, given one snapshot. The generated BPF decision core
// has exactly these semantics (tests run both on the same snapshots); the playground's
// simulator and `simulate --engine reference` run this. Pure and browser-safe.
//
//  - The first scheduler whose `for` matches the connection serves it (no `for`: any);
//    none: the kernel's default scheduler keeps the connection (scheduler null).
//  - Only usable subflows are ever chosen: `active` in the snapshot (the kernel can send
//    on them) and not `sndbuf_full`; for a retransmission also not `stale` and with
//    nothing outstanding (`queued` 0), as the kernel's own retransmission choice wants.
//    A step looks at the usable subflows that match its `where`.
//  - use: the lowest (highest) value of the metric, ties to the first in list order.
//    use any: the first usable subflow. redundant: every match. round_robin: match
//    number (turn mod matches), then the turn advances (not for a retransmission); the
//    turn is kept per connection.
//  - The first step that finds a subflow decides; none: nothing is sent (step null).
import { evaluateCondition, type Facts } from "../evaluate-condition.js";
import type { ConditionModel, PolicyModel, SchedulerModel, StepModel } from "../model.js";
import type { Snapshot, SubflowSnapshot } from "./snapshot.js";

export interface ScheduleDecision {
  /** The scheduler that served the connection; null: none of the policy's did. */
  readonly scheduler: string | null;
  /** 1-based step that found subflows; null when none did (or no scheduler served). */
  readonly step: number | null;
  /** Indexes of the subflows to send on, ascending. */
  readonly scheduled: readonly number[];
  /** The connection's round_robin turn after this decision. */
  readonly turn: number;
}

/** What a decision is for: new data (get_send) or a retransmission (get_retrans). */
export type Purpose = "send" | "retrans";

/** Whether a decision for this purpose may choose the subflow. */
export function usable(s: SubflowSnapshot, purpose: Purpose): boolean {
  return s.active && !s.sndbufFull && (purpose === "send" || (!s.stale && s.metrics.queued === 0));
}

/** Policy interface names of a kernel interface name (compiler/interfaces.ts). */
export type IfaceNames = (ifname: string) => readonly string[];

export function connectionFacts(snapshot: Snapshot): Facts {
  const c = snapshot.connection;
  return {
    local: c.local,
    remote: c.remote,
    localPort: c.localPort,
    remotePort: c.remotePort,
    family: c.family,
    side: c.side,
    subflows: snapshot.subflows.length,
  };
}

/** The scheduler that serves the connection, by `for` in policy order. */
export function selectScheduler(model: PolicyModel, snapshot: Snapshot): number | undefined {
  const facts = connectionFacts(snapshot);
  const index = model.schedulers.findIndex((s) => s.selector === undefined || evaluateCondition(s.selector, facts));
  return index < 0 ? undefined : index;
}

/** The policy's decision for one snapshot; `turn` is the connection's round_robin turn. */
export function decideSchedule(model: PolicyModel, snapshot: Snapshot, ifaceNames: IfaceNames, turn = 0, purpose: Purpose = "send"): ScheduleDecision {
  const index = selectScheduler(model, snapshot);
  const scheduler = index === undefined ? undefined : model.schedulers[index];
  if (!scheduler) return { scheduler: null, step: null, scheduled: [], turn };
  return runScheduler(scheduler, snapshot, ifaceNames, turn, purpose);
}

/** One scheduler's steps on a snapshot, its `for` not tested. */
export function runScheduler(scheduler: SchedulerModel, snapshot: Snapshot, ifaceNames: IfaceNames, turn = 0, purpose: Purpose = "send"): ScheduleDecision {
  const base = connectionFacts(snapshot);
  const facts = snapshot.subflows.map((s) => subflowFacts(base, s, ifaceNames));
  for (const [k, step] of scheduler.steps.entries()) {
    const matches = snapshot.subflows.flatMap((s, i) => (usable(s, purpose) && (step.mode === "use_any" || holds(step.where, facts[i])) ? [i] : []));
    if (matches.length === 0) continue;
    const found = (scheduled: number[], next = turn) => ({ scheduler: scheduler.name, step: k + 1, scheduled, turn: next });
    switch (step.mode) {
      case "use_any":
        return found([matches[0] as number]);
      case "use":
        return found([best(step, matches, snapshot.subflows)]);
      case "redundant":
        return found(matches);
      case "round_robin":
        return found([matches[(turn >>> 0) % matches.length] as number], purpose === "send" ? (turn + 1) >>> 0 : turn);
    }
  }
  return { scheduler: scheduler.name, step: null, scheduled: [], turn };
}

function subflowFacts(base: Facts, s: SubflowSnapshot, ifaceNames: IfaceNames): Facts {
  return { ...base, ifaces: ifaceNames(s.ifname), backup: s.backup, stale: s.stale, metrics: s.metrics };
}

function holds(condition: ConditionModel | undefined, facts: Facts | undefined): boolean {
  return condition === undefined || (facts !== undefined && evaluateCondition(condition, facts));
}

function best(step: StepModel, matches: readonly number[], subflows: readonly SubflowSnapshot[]): number {
  const order = step.order ?? { direction: "lowest", metric: "rtt" };
  let pick = matches[0] as number;
  for (const i of matches.slice(1)) {
    const value = subflows[i]?.metrics[order.metric] ?? 0;
    const current = subflows[pick]?.metrics[order.metric] ?? 0;
    if (order.direction === "lowest" ? value < current : value > current) pick = i;
  }
  return pick;
}
