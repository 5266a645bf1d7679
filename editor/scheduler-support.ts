// The BPF back ends, as the playground shows them: the files of the scheduler object
// from compiler/scheduler/emit.ts and of the `mptcp for` socket hook from
// compiler/programs/emit.ts (pure functions of the model). This file is the one place
// the playground meets the BPF C generators.
import type { PolicyModel } from "../compiler/model.js";
import { emitProgramSelection, hasProgramSelection, SOCKET_SOURCE_FILE } from "../compiler/programs/emit.js";
import { CORE_FILE, emitBpf, schedulerNameProblems, STRUCT_OPS_FILE } from "../compiler/scheduler/emit.js";
import type { Outputs } from "./protocol.js";

/** Generated files first (the struct_ops wrapper, the decision core, the socket hook), then the hand-written headers. */
export function generateBpf(model: PolicyModel): Outputs["bpf"] {
  const selects = hasProgramSelection(model);
  if (model.schedulers.length === 0 && !selects) return { available: false, reason: "the policy has no scheduler block and no 'mptcp for', so no BPF is generated" };
  const order = [STRUCT_OPS_FILE, CORE_FILE, SOCKET_SOURCE_FILE];
  const emitted = [...(model.schedulers.length > 0 ? emitBpf(model) : []), ...(selects ? emitProgramSelection(model) : [])];
  const files = emitted.sort((a, b) => {
    const rank = (name: string) => (order.includes(name) ? order.indexOf(name) : order.length);
    return rank(a.name) - rank(b.name);
  });
  return {
    available: true,
    files: files.map((f) => ({ name: f.name, text: f.text, generated: order.includes(f.name) })),
    problems: model.schedulers.length > 0 ? schedulerNameProblems(model) : [],
  };
}
