// Where the kernel lacks the BPF scheduler hook (every released kernel): what the
// daemon does for each scheduler. The kernel's default scheduler sends on non-backup
// subflows and uses a backup one only when no other is usable, it skips stale
// subflows, and within a tier it picks by its own measure (the shortest send-buffer
// linger time). So the daemon steers with backup flags (MP_PRIO through Netlink):
//
//  - at once, when a subflow is established: the subflows whose interface, addresses
//    and flags can match the first step stay active, the others become backups
//    (`active`, a condition without metrics);
//  - then live, every --scheduler-interval: it samples the subflows' metrics and runs
//    the scheduler on them (compiler/scheduler/live-tiers.ts), keeping active exactly
//    the subflows the deciding step would send on.
//
// Each scheduler is one of:
//   exact            the default scheduler already does what it says (`use any` first);
//   approximated     steered by backup flags; `losses` says what is not followed;
//   not_expressible  kept for callers that name it: no scheduler is that since the
//                    live tiers follow metrics, redundant and round_robin steps.
//
// A pure function of the model: `compile --emit bpf` prints it, docs/scheduler.md
// explains it, and the daemon applies `active` per connection and runs the live tiers.
import { REDUNDANT_WITH_HOOK } from "../../language/vocabulary.js";
import type { ConditionModel, PolicyModel, SchedulerModel, StepModel } from "../model.js";
import { describeCondition, describeStep } from "./describe.js";

export type FallbackKind = "exact" | "approximated" | "not_expressible";

export interface SchedulerFallback {
  readonly scheduler: string;
  readonly kind: FallbackKind;
  /**
   * For connections this scheduler serves, the subflows to keep active (not backup);
   * every other subflow is marked backup. Absent: leave the backup flags as they are.
   * Tests only what the path manager knows: interface, connection, `subflows`, flags.
   */
  readonly active?: ConditionModel;
  /** The live tiers steer it from sampled metrics (every scheduler that is not `exact`). */
  readonly live: boolean;
  /** One sentence on what happens without the hook. */
  readonly summary: string;
  /** What the approximation does not follow, one item each. */
  readonly losses: readonly string[];
}

/** What a `redundant` step does where the hook exists (REDUNDANT_WITH_HOOK says why). */
export const redundantOnHook = `even with the hook, ${REDUNDANT_WITH_HOOK}`;

export function classifySchedulers(model: PolicyModel): SchedulerFallback[] {
  return model.schedulers.map(classifyScheduler);
}

/** How the live tiers follow a scheduler: at the sampling interval, not per packet. */
export const LIVE_GRANULARITY = "every --scheduler-interval (500 ms by default)";

export function classifyScheduler(scheduler: SchedulerModel): SchedulerFallback {
  const name = scheduler.name;
  const steps = reachableSteps(scheduler.steps);
  const [first] = steps;
  if (!first || first.mode === "use_any") {
    return { scheduler: name, kind: "exact", live: false, summary: "the kernel's default scheduler sends on any usable subflow, as 'use any' allows.", losses: [] };
  }
  const losses: string[] = [];
  for (const step of steps) {
    if (step.mode === "redundant") losses.push(`'${describeStep(step)}': every matching subflow stays active, but the kernel sends each piece of data on one of them (${redundantOnHook})`);
    if (step.mode === "round_robin") losses.push(`'${describeStep(step)}': every matching subflow stays active, but the kernel picks among them by send-buffer linger time, not in turn`);
  }
  if (steps.some((s) => s.mode === "use"))
    losses.push(`per-packet choices: the subflow a 'use' step picks is chosen again ${LIVE_GRANULARITY}, not for each packet; a pick keeps its place until another is 20 % better, and a change waits for two samples that agree`);
  losses.push("a backup subflow carries no data, so its metrics are as old as its last data: it is measured again only when a step lets the kernel use it (a later `use any`, or when the active ones fail)");
  const live = `the daemon samples the subflows' metrics ${LIVE_GRANULARITY} and keeps active the subflows the deciding step would send on, the others backup, so the kernel's default scheduler sends on them`;
  const where = first.where ? simplify(relax(first.where, true, [])) : true;
  const active = typeof where === "boolean" || flagsOnly(where) ? undefined : where;
  const marked = active ? `; from the start, subflows where ${describeCondition(active)} are active and the others backup` : "";
  return { scheduler: name, kind: "approximated", live: true, ...(active ? { active } : {}), summary: `${live}${marked}.`, losses };
}

/** Steps up to and including the first one that always finds a usable subflow. */
export function reachableSteps(steps: readonly StepModel[]): StepModel[] {
  const end = steps.findIndex((s) => s.mode === "use_any" || !s.where);
  return end < 0 ? [...steps] : steps.slice(0, end + 1);
}

type Relaxed = ConditionModel | boolean;

/**
 * The condition with what the path manager cannot follow replaced so that the result
 * holds wherever the original does (a superset): metric tests become true where they
 * count positively and false under `not`; `stale` is the kernel's own business (it
 * skips stale subflows), so it relaxes the same way.
 */
function relax(c: ConditionModel, positive: boolean, dropped: string[]): Relaxed {
  switch (c.op) {
    case "and":
    case "or":
      return { op: c.op, operands: c.operands.map((o) => relax(o, positive, dropped)) as ConditionModel[] };
    case "not":
      return { op: "not", operand: relax(c.operand, !positive, dropped) as ConditionModel };
    case "metric":
      dropped.push(describeCondition(c));
      return positive;
    case "stale":
      return positive;
    default:
      return c;
  }
}

/** Fold the booleans relax() left inside and/or/not. */
function simplify(c: Relaxed): Relaxed {
  if (typeof c === "boolean") return c;
  switch (c.op) {
    case "not": {
      const inner = simplify(c.operand as Relaxed);
      return typeof inner === "boolean" ? !inner : { op: "not", operand: inner };
    }
    case "and":
    case "or": {
      const absorbing = c.op === "or";
      const kept: ConditionModel[] = [];
      for (const o of c.operands) {
        const s = simplify(o as Relaxed);
        if (typeof s === "boolean") {
          if (s === absorbing) return absorbing;
        } else kept.push(s);
      }
      if (kept.length === 0) return !absorbing;
      return kept.length === 1 ? (kept[0] as ConditionModel) : { op: c.op, operands: kept };
    }
    default:
      return c;
  }
}

/** Only `active` / `not backup`: the default scheduler's own preference. */
function flagsOnly(c: ConditionModel): boolean {
  if (c.op === "active") return true;
  if (c.op === "not") return c.operand.op === "backup";
  if (c.op === "and") return c.operands.every(flagsOnly);
  return false;
}

/** The classification in words, one line per scheduler (for `compile --emit bpf` and `build`). */
export function describeFallbacks(fallbacks: readonly SchedulerFallback[]): string[] {
  return fallbacks.map((f) => {
    const kind = f.kind === "not_expressible" ? "not expressible without the hook" : f.kind;
    const losses = f.losses.length > 0 ? ` Not followed: ${f.losses.join("; ")}.` : "";
    return `${f.scheduler}: ${kind}: ${f.summary}${losses}`;
  });
}
