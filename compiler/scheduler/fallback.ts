// Where the kernel lacks the BPF scheduler hook (mainline kernels, 6.18 included): what
// the path manager alone can do for each scheduler. The kernel's default scheduler
// sends on non-backup subflows and uses a backup one only when no other is usable, and
// it skips stale subflows (mptcp_subflow_active()); within a tier it picks by its own
// measure (the shortest send-buffer linger time). So marking subflows backup or active
// (MP_PRIO through Netlink) as conditions change turns a scheduler's first step into
// the kernel's first tier. Each scheduler is one of:
//
//   exact            the default scheduler already does what the scheduler says;
//   approximated     marking subflows gets close; `losses` says what is not followed;
//   not_expressible  needs the hook (sending on every match, rotation, metric-only choices).
//
// A pure function of the model: `compile --emit bpf` prints it, docs/scheduler.md
// explains it, and the daemon applies `active` per connection.
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

export function classifyScheduler(scheduler: SchedulerModel): SchedulerFallback {
  const name = scheduler.name;
  const steps = reachableSteps(scheduler.steps);
  const needsHook = steps.find((s) => s.mode === "redundant" || s.mode === "round_robin");
  if (needsHook) {
    // The default scheduler sends each piece of data on one subflow; and even the hook
    // cannot make new data go out twice (redundantOnHook, below).
    const what = needsHook.mode === "redundant" ? `sends each piece of data on one subflow (${redundantOnHook})` : "does not take subflows in turn";
    return {
      scheduler: name,
      kind: "not_expressible",
      summary: `'${describeStep(needsHook)}' needs the BPF scheduler hook: the kernel's default scheduler ${what}.`,
      losses: [],
    };
  }
  const [first, ...rest] = steps;
  if (!first || first.mode === "use_any") {
    return { scheduler: name, kind: "exact", summary: "the kernel's default scheduler sends on any usable subflow, as 'use any' allows.", losses: [] };
  }
  const losses: string[] = [];
  const order = first.order ?? { direction: "lowest", metric: "rtt" };
  losses.push(`among the subflows of the first tier the kernel picks by send-buffer linger time, not by ${order.direction} ${order.metric}`);
  if (rest.length > 1 || (rest[0] && rest[0].mode !== "use_any"))
    losses.push(`the later steps (${rest.map(describeStep).join("; ")}) become one tier: any usable backup subflow`);
  if (!first.where) {
    return { scheduler: name, kind: "approximated", summary: "the kernel's default scheduler sends on the usable subflows, non-backup first.", losses };
  }
  const dropped: string[] = [];
  const relaxed = simplify(relax(first.where, true, dropped));
  for (const d of dropped) losses.push(`'${d}' is not followed: the path manager cannot see subflow metrics as packets are sent`);
  if (relaxed === true || relaxed === false) {
    if (dropped.length > 0)
      return {
        scheduler: name,
        kind: "not_expressible",
        summary: `its first step chooses by subflow metrics only (${describeCondition(first.where)}), which needs the BPF scheduler hook.`,
        losses: [],
      };
    return { scheduler: name, kind: "approximated", summary: "the kernel's default scheduler sends on the usable subflows, non-backup first.", losses };
  }
  if (flagsOnly(relaxed)) {
    return {
      scheduler: name,
      kind: "approximated",
      summary: `the kernel's default scheduler already prefers usable non-backup, non-stale subflows (${describeCondition(first.where)}).`,
      losses,
    };
  }
  return {
    scheduler: name,
    kind: "approximated",
    active: relaxed,
    summary: `subflows where ${describeCondition(relaxed)} are marked active and the others backup, so the kernel's default scheduler uses them first and the others only when none of them is usable.`,
    losses,
  };
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
