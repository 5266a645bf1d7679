// A sequence of snapshots through the reference evaluator, the way a kernel would see
// them: the round_robin turn is kept per connection (family, addresses, ports) from one
// snapshot to the next. `simulate --subflows --engine reference`, and the playground.
import type { PolicyModel } from "../model.js";
import { decideSchedule, type IfaceNames, type ScheduleDecision } from "./evaluate.js";
import type { Snapshot } from "./snapshot.js";

/** Which connection a snapshot belongs to. */
export function connectionKey(snapshot: Snapshot): string {
  const c = snapshot.connection;
  return `${c.family} ${c.local} ${c.localPort} ${c.remote} ${c.remotePort}`;
}

export function simulateSchedules(model: PolicyModel, snapshots: readonly Snapshot[], ifaceNames: IfaceNames): ScheduleDecision[] {
  const turns = new Map<string, number>();
  return snapshots.map((snapshot) => {
    const key = connectionKey(snapshot);
    const decision = decideSchedule(model, snapshot, ifaceNames, turns.get(key) ?? 0);
    turns.set(key, decision.turn);
    return decision;
  });
}

/** The `simulate --subflows --format json` line for one decision. */
export function decisionJson(decision: ScheduleDecision): { scheduler: string | null; step: number | null; scheduled: number[] } {
  return { scheduler: decision.scheduler, step: decision.step, scheduled: [...decision.scheduled] };
}
