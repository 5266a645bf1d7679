// What `run` does with each scheduler block, in words, for `explain`: attached as BPF
// where the kernel has the hook, else approximated with backup flags, or nothing.
// Pure: the caller says what the kernel has (the CLI probes it); without that (the
// playground) both kinds of kernel are described.
import { REDUNDANT_WITH_HOOK } from "../language/vocabulary.js";
import type { PolicyModel, SchedulerModel } from "./model.js";
import type { Strategy } from "./plan.js";
import { describeStep } from "./scheduler/describe.js";
import { DISPATCHER_NAME, needsDispatcher, schedulerNameProblems } from "./scheduler/emit.js";
import { classifyScheduler, reachableSteps, type SchedulerFallback } from "./scheduler/fallback.js";
import { describeCondition } from "./explain-conditions.js";

/** What `run --scheduler-fallback` does where the kernel lacks the hook. */
export type SchedulerFallbackMode = "approximate" | "off";

export interface KernelDescription {
  /** The kernel has MPTCP's BPF scheduler hook in the shape the objects are written for. */
  readonly bpfSchedulerHook: boolean;
  /** What was found, one sentence for users (e.g. the release and the hook probe's answer). */
  readonly detail: string;
}

export interface SchedulerExplainOptions {
  /** The kernel `run` would meet; absent: say what happens with and without the hook. */
  readonly kernel?: KernelDescription;
  /** As `run`'s flag; default `approximate`, as `run`'s. */
  readonly schedulerFallback?: SchedulerFallbackMode;
}

export function explainSchedulers(model: PolicyModel, strategy: Strategy, options: SchedulerExplainOptions = {}): string[] {
  if (model.schedulers.length === 0) return [];
  const { kernel, schedulerFallback = "approximate" } = options;
  const lines: string[] = [];
  if (kernel) lines.push(`Kernel: ${kernel.detail.replace(/\.$/, "")}.`);
  lines.push("Schedulers (the first whose 'for' matches serves a connection):");
  for (const scheduler of model.schedulers) {
    const serves = scheduler.selector ? `connections where ${describeCondition(scheduler.selector)}` : "every other connection";
    lines.push(`${scheduler.at.file}:${scheduler.at.line}: scheduler ${scheduler.name} serves ${serves}.`);
    const attached = withHook(model, scheduler);
    const fallback = withoutHook(classifyScheduler(scheduler), strategy, schedulerFallback);
    if (!kernel) {
      lines.push(`  - with the BPF scheduler hook (MPTCP development tree): ${attached}`);
      lines.push(`  - without it (mainline kernels): ${fallback}`);
    } else lines.push(`  - on this kernel: ${kernel.bpfSchedulerHook ? attached : fallback}`);
  }
  return lines;
}

/** As runtime/bpf/attach.ts does it: all blocks in one object, one of them selected. */
function withHook(model: PolicyModel, scheduler: SchedulerModel): string {
  const problems = schedulerNameProblems(model);
  if (problems.length > 0)
    return `not attached, the kernel's default scheduler decides: the policy's schedulers cannot be registered (${problems.join("; ")}).`;
  const registered = `attached: run registers it as BPF scheduler '${scheduler.name}'`;
  const selected = needsDispatcher(model)
    ? `${registered} and selects '${DISPATCHER_NAME}' (net.mptcp.scheduler), which runs it for these connections.`
    : `${registered} and selects it (net.mptcp.scheduler = ${scheduler.name}).`;
  // The hook does not send new data twice: say what `redundant` comes to there.
  const redundant = reachableSteps(scheduler.steps).filter((s) => s.mode === "redundant");
  return redundant.length === 0 ? selected : `${selected} ${redundant.map((s) => `'${describeStep(s)}'`).join(" and ")}: ${REDUNDANT_WITH_HOOK}.`;
}

/** As runtime/daemon/scheduler-support.ts does it. */
function withoutHook(fallback: SchedulerFallback, strategy: Strategy, mode: SchedulerFallbackMode): string {
  const unchanged = "not approximated, the kernel's default scheduler decides";
  if (mode === "off") return `${unchanged}: --scheduler-fallback=off leaves the backup flags to the rules.`;
  const losses = fallback.losses.length > 0 ? ` Not followed: ${fallback.losses.join("; ")}.` : "";
  switch (fallback.kind) {
    case "not_expressible":
      return `${unchanged}: ${fallback.summary}`;
    case "exact":
      return `nothing to approximate: ${fallback.summary}`;
    case "approximated":
      if (strategy !== "userspace")
        return `${unchanged}: the approximation marks subflows backup per connection, which needs the userspace path manager, and this policy uses the in-kernel one.`;
      return `approximated by backup flags from live subflow metrics: ${fallback.summary}${losses}`;
  }
}
