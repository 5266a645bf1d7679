// What `run` does with the `mptcp for` statements, as part of the plan (JSON) and in
// words for `explain`. Pure.
import { describeCondition as describeWords } from "../explain-conditions.js";
import { selectionsOf, type PolicyModel, type SourceRef } from "../model.js";
import { describeCondition as describeSyntax } from "../scheduler/describe.js";
import { SOCKET_HOOK } from "./emit.js";
import { selectionSlots, type CgroupRef } from "./layout.js";

export interface PlannedProgramSelection {
  /** Where the BPF program attaches. */
  readonly hook: `fmod_ret/${typeof SOCKET_HOOK}`;
  readonly requires: string;
  readonly statements: readonly { readonly at: SourceRef; readonly condition: string }[];
  /** What the program's data holds, by slot (compiler/programs/layout.ts). */
  readonly data: { readonly programs: readonly string[]; readonly cgroups: readonly CgroupRef[]; readonly users: readonly number[] };
}

export const HOOK_REQUIREMENT = "Linux 6.6 or later (update_socket_protocol) and BPF trampolines (fmod_ret)";

export function planProgramSelection(model: PolicyModel): PlannedProgramSelection | undefined {
  const selections = selectionsOf(model);
  if (selections.length === 0) return undefined;
  return {
    hook: `fmod_ret/${SOCKET_HOOK}`,
    requires: HOOK_REQUIREMENT,
    statements: selections.map((s) => ({ at: s.at, condition: describeSyntax(s.condition) })),
    data: selectionSlots(model),
  };
}

export function explainProgramSelection(model: PolicyModel): string[] {
  const selections = selectionsOf(model);
  if (selections.length === 0) return [];
  return [
    `Programs made MPTCP: a TCP socket (IPv4 or IPv6) of this network namespace becomes MPTCP when it is created if one of these matches; a BPF program on ${SOCKET_HOOK} decides, which needs ${HOOK_REQUIREMENT}. Sockets that exist already stay as they are.`,
    ...selections.map((s) => `${s.at.file}:${s.at.line}: ${describeWords(s.condition)}.`),
  ];
}
