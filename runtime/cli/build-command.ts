// `mptcp-policy build PATH [-o DIR]`: the generated C of a policy's schedulers compiled
// to BPF objects with clang, and the decision core loaded once into this kernel (as
// root) so the verifier has its say at build time rather than at attach time.
import { classifySchedulers, describeFallbacks } from "../../compiler/scheduler/fallback.js";
import { BpfGenerationError } from "../../compiler/scheduler/c-core.js";
import { schedulerNameProblems, selectedScheduler } from "../../compiler/scheduler/emit.js";
import { BpfLoadError, loadObject } from "../bpf/helper.js";
import { buildPolicy, CompileError, ToolchainError } from "../bpf/toolchain.js";
import { requirePaths, type Command } from "./command.js";
import { loadModel } from "./compile-command.js";
import { InputError } from "./errors.js";
import { writeErr } from "./output.js";

export const DEFAULT_BUILD_DIR = "mptcp-policy-bpf";

export const buildCommand: Command = {
  name: "build",
  summary: "compile a policy's schedulers to BPF objects with clang",
  usage: `Usage: mptcp-policy build [-o DIR] [--no-verify] PATH

Checks one policy, writes the generated C of its schedulers into DIR (default
./${DEFAULT_BUILD_DIR}) and compiles it with clang:

  sched.bpf.o               one BPF MPTCP scheduler (struct_ops) per scheduler block,
                            and 'mptcp_policy' choosing among them by 'for'
  mptcp_policy_test.bpf.o   the decision core in an XDP program (simulate --engine bpf)

As root, the decision core is then loaded into this kernel once, so the verifier
checks it. Exit 0 when built, 1 when the policy has errors or the kernel refuses,
2 on usage or a missing toolchain (clang-19, libbpf-dev).

Options:
  -o, --output DIR  where to write (created if missing)
  --no-verify       do not load the decision core into the kernel
  -h, --help        show this help`,
  options: { output: { type: "string", short: "o" }, "no-verify": { type: "boolean" }, help: { type: "boolean", short: "h" } },
  run(values, positionals) {
    const model = loadModel(requirePaths(positionals, "build"));
    if (!model) return 1;
    const problems = schedulerNameProblems(model);
    if (problems.length > 0) {
      writeErr(problems.map((p) => `mptcp-policy: ${p}`).join("\n"));
      return 1;
    }
    const dir = typeof values["output"] === "string" ? values["output"] : DEFAULT_BUILD_DIR;
    let built;
    try {
      built = buildPolicy(model, dir);
    } catch (cause) {
      if (cause instanceof ToolchainError) throw new InputError(cause.message);
      if (cause instanceof BpfGenerationError) {
        writeErr(`mptcp-policy: ${cause.message}`);
        return 1;
      }
      if (cause instanceof CompileError) {
        writeErr(`mptcp-policy: ${cause.message} (a bug in mptcp-policy: please report it)\n${cause.stderr}`);
        return 70;
      }
      throw cause;
    }
    const names = model.schedulers.map((s) => s.name);
    const selected = selectedScheduler(model);
    if (selected && !names.includes(selected)) names.push(selected);
    writeErr(`wrote ${built.structOps} (schedulers: ${names.join(", ") || "none"}) and ${built.test}`);
    for (const line of describeFallbacks(classifySchedulers(model))) writeErr(`without the BPF hook: ${line}`);
    if (values["no-verify"] === true) return 0;
    if (process.getuid?.() !== 0) {
      writeErr("not verified: loading BPF programs needs root (or use --no-verify to skip this step)");
      return 0;
    }
    try {
      const [info] = loadObject(built.test);
      writeErr(`decision core verified by this kernel: ${info?.xlated_insns ?? "?"} instructions`);
    } catch (cause) {
      if (cause instanceof ToolchainError) throw new InputError(cause.message);
      if (cause instanceof BpfLoadError) {
        writeErr(`mptcp-policy: the kernel refused the decision core: ${cause.message}\n${cause.log}`);
        return 1;
      }
      throw cause;
    }
    return 0;
  },
};
