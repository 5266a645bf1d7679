// The scheduler back end, as the playground shows it: the files of the BPF object
// from compiler/scheduler/emit.ts (a pure function of the model). This file is the
// one place the playground meets the BPF C generator.
import type { PolicyModel } from "../compiler/model.js";
import { CORE_FILE, emitBpf, schedulerNameProblems, STRUCT_OPS_FILE } from "../compiler/scheduler/emit.js";
import type { Outputs } from "./protocol.js";

/** Generated files first (the struct_ops wrapper, then the decision core), then the hand-written headers. */
export function generateBpf(model: PolicyModel): Outputs["bpf"] {
  if (model.schedulers.length === 0) return { available: false, reason: "the policy has no scheduler block, so no BPF scheduler is generated" };
  const order = [STRUCT_OPS_FILE, CORE_FILE];
  const files = [...emitBpf(model)].sort((a, b) => {
    const rank = (name: string) => (order.includes(name) ? order.indexOf(name) : order.length);
    return rank(a.name) - rank(b.name);
  });
  return {
    available: true,
    files: files.map((f) => ({ name: f.name, text: f.text, generated: order.includes(f.name) })),
    problems: schedulerNameProblems(model),
  };
}
