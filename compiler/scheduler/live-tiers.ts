// Live scheduler tiers: where the kernel lacks the BPF scheduler hook, the daemon
// samples each connection's subflows (sock_diag) and keeps active exactly the
// subflows the scheduler's deciding step would send on, marking the others backup
// (MP_PRIO); the kernel's default scheduler sends on non-backup subflows first, so it
// follows within a few packets. Pure: the reference evaluator on one snapshot, plus
// the hysteresis that keeps two subflows near a threshold from flapping.
//
// What the deciding step asks for:
//   use ... by lowest|highest M   the one subflow it picks;
//   redundant, round_robin        every subflow it matches (the kernel cannot send on
//                                 all of them at once, nor in turn: it picks among them);
//   use any                       the kernel's own choice: the backup flags go back to
//                                 what the rules and endpoints gave;
//   no step finds a subflow       no change.
//
// Hysteresis, two parts: (1) for `by lowest|highest M`, the subflow picked last time
// keeps its place while it still matches and the new best is less than
// SWITCH_MARGIN better; (2) the runtime applies a new decision only once two samples
// in a row agree (LiveTierState), so a single sample across a threshold moves nothing.
// The cost: one sampling interval more before a real change is followed.
import type { SchedulerModel } from "../model.js";
import { runScheduler, type IfaceNames } from "./evaluate.js";
import type { ConnectionSnapshot, SubflowSnapshot } from "./snapshot.js";

/** A challenger must be this much better (relative) to replace the current pick. */
export const SWITCH_MARGIN = 0.2;
/** Samples in a row that must agree before a decision is applied. */
export const AGREEING_SAMPLES = 2;

export interface LiveSubflow extends SubflowSnapshot {
  /** Identifies the subflow across samples. */
  readonly key: string;
  /** The backup flag the rules and endpoints gave it (the scheduler's `backup` tests this). */
  readonly backup: boolean;
}

export interface TierChoice {
  /** Keys of the subflows to keep active (all others backup); undefined: leave the flags as the rules set them. */
  readonly active: readonly string[] | undefined;
  /** 1-based step that decided; null when none found a subflow. */
  readonly step: number | null;
}

/** The tier one snapshot asks for; `previousPick` is the subflow the last applied `use` step kept. */
export function chooseTier(scheduler: SchedulerModel, connection: ConnectionSnapshot, subflows: readonly LiveSubflow[], ifaceNames: IfaceNames, previousPick?: string): TierChoice {
  // A tier keeps every subflow a round_robin step would take in turn: as `redundant` would match them.
  const tiers = scheduler.steps.some((s) => s.mode === "round_robin") ? { ...scheduler, steps: scheduler.steps.map((s) => (s.mode === "round_robin" ? { ...s, mode: "redundant" as const } : s)) } : scheduler;
  const decision = runScheduler(tiers, { connection, subflows }, ifaceNames);
  if (decision.step === null) return { active: undefined, step: null };
  const step = scheduler.steps[decision.step - 1]!;
  if (step.mode === "use_any") return { active: undefined, step: decision.step };
  if (step.mode !== "use") return { active: decision.scheduled.map((i) => subflows[i]!.key), step: decision.step };
  const pick = subflows[decision.scheduled[0]!]!;
  const kept = previousPick === undefined ? undefined : keepPrevious(tiers, decision.step, connection, subflows, ifaceNames, previousPick, pick);
  return { active: [kept ?? pick.key], step: decision.step };
}

/** The previous pick, when it still matches the step and the new best is not SWITCH_MARGIN better. */
function keepPrevious(scheduler: SchedulerModel, stepNumber: number, connection: ConnectionSnapshot, subflows: readonly LiveSubflow[], ifaceNames: IfaceNames, previousPick: string, best: LiveSubflow): string | undefined {
  if (best.key === previousPick) return undefined;
  const index = subflows.findIndex((s) => s.key === previousPick);
  if (index < 0) return undefined;
  // Does the step still match the previous pick? Ask the evaluator with it alone.
  const alone = runScheduler({ ...scheduler, steps: [scheduler.steps[stepNumber - 1]!] }, { connection, subflows: [subflows[index]!] }, ifaceNames);
  if (alone.step === null) return undefined;
  const order = scheduler.steps[stepNumber - 1]!.order ?? { direction: "lowest", metric: "rtt" };
  const current = subflows[index]!.metrics[order.metric];
  const challenger = best.metrics[order.metric];
  const better = order.direction === "lowest" ? challenger < current * (1 - SWITCH_MARGIN) : challenger > current * (1 + SWITCH_MARGIN);
  return better ? undefined : previousPick;
}

/** Per connection: what was applied, and the candidate waiting for agreeing samples. */
export class LiveTierState {
  applied: TierChoice | undefined;
  private candidate: string | undefined;
  private agreeing = 0;

  /** Feed one choice; returns it when it should be applied now, else undefined. */
  offer(choice: TierChoice): TierChoice | undefined {
    const key = choiceKey(choice);
    if (this.applied !== undefined && choiceKey(this.applied) === key) {
      this.candidate = undefined;
      this.agreeing = 0;
      return undefined;
    }
    if (this.candidate === key) this.agreeing++;
    else {
      this.candidate = key;
      this.agreeing = 1;
    }
    // The very first choice of a connection needs no agreement: nothing to flap from.
    if (this.applied !== undefined && this.agreeing < AGREEING_SAMPLES) return undefined;
    this.applied = choice;
    this.candidate = undefined;
    this.agreeing = 0;
    return choice;
  }

  /** The single subflow the applied `use` step keeps (for the margin of chooseTier). */
  get pick(): string | undefined {
    return this.applied?.active?.length === 1 ? this.applied.active[0] : undefined;
  }
}

function choiceKey(choice: TierChoice): string {
  return choice.active === undefined ? "rules" : [...choice.active].sort().join(",");
}
