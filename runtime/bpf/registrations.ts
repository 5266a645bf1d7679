// Which scheduler names a policy registers with the kernel, and which of them the kernel
// already has from someone else. Registrations are global to the host (the kernel's one
// list of schedulers), net.mptcp.scheduler is per network namespace; names registered by
// an earlier attach of ours (pinned, perhaps left by a crash) are replaced, not refused.
import type { PolicyModel } from "../../compiler/model.js";
import { DISPATCHER_NAME, needsDispatcher } from "../../compiler/scheduler/emit.js";

/** The kernel-visible names attach registers: each block's, and the dispatcher's. */
export function registeredNames(model: PolicyModel): string[] {
  return [...model.schedulers.map((s) => s.name), ...(needsDispatcher(model) ? [DISPATCHER_NAME] : [])];
}

/**
 * Names the policy would register that the kernel already lists
 * (net.mptcp.available_schedulers) and that are not ours to replace.
 */
export function registrationConflicts(wanted: readonly string[], available: readonly string[], ours: readonly string[]): string[] {
  const taken = new Set(available);
  const replaceable = new Set(ours);
  return wanted.filter((n) => taken.has(n) && !replaceable.has(n));
}

/** One sentence for the conflicts found. */
export function conflictSentence(conflicts: readonly string[]): string {
  const list = conflicts.map((n) => `'${n}'`).join(", ");
  const one = conflicts.length === 1;
  return `cannot attach: ${one ? "a scheduler" : "schedulers"} named ${list} ${one ? "is" : "are"} already registered with the kernel, not by mptcp-policy (net.mptcp.available_schedulers lists ${one ? "it" : "them"}); unregister ${one ? "it" : "them"} (bpftool struct_ops show, then unregister id ID) or rename the policy's scheduler${one ? "" : "s"}`;
}
