// `mptcp-policy compile --emit KIND PATH [-o DIR]`: run a back end on a checked policy.
// Each back end is a pure function of the policy model (compiler/); this command
// only loads the policy, refuses one with errors, and writes the result.
import { formatOption, requirePaths, type Command } from "./command.js";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compilePolicy } from "../../compiler/pipeline.js";
import { emitBpf } from "../../compiler/scheduler/emit.js";
import { emitProgramSelection, hasProgramSelection } from "../../compiler/programs/emit.js";
import type { PolicyModel } from "../../compiler/model.js";
import { planPolicy } from "../../compiler/plan.js";
import { render } from "../../language/diagnostics.js";
import { UsageError } from "./errors.js";
import { findPolicies, readPolicyFile } from "./load-policies.js";
import { styleFor, writeErr, writeOut } from "./output.js";

/** What a back end produces: named files (written with -o, else printed in order). */
export interface Emitted {
  readonly files: readonly { readonly name: string; readonly text: string }[];
}

export type Emitter = (model: PolicyModel) => Emitted;

/** Back ends by --emit name; each issue's back end registers here. */
export const EMITTERS: Record<string, Emitter> = {
  model: (model) => ({ files: [{ name: "model.json", text: `${JSON.stringify(model, null, 2)}\n` }] }),
  plan: (model) => ({ files: [{ name: "plan.json", text: `${JSON.stringify(planPolicy(model), null, 2)}\n` }] }),
  bpf: (model) => ({ files: emitBpf(model) }),
  programs: (model) => {
    if (!hasProgramSelection(model)) throw new UsageError("the policy has no 'mptcp for' statement, so there is no program selection to emit");
    return { files: emitProgramSelection(model) };
  },
};

export interface CompileOptions {
  readonly emit: string;
  readonly paths: readonly string[];
  readonly outDir: string | undefined;
}

/** Load exactly one policy and return its model, or print its diagnostics and return undefined. */
export function loadModel(paths: readonly string[]): PolicyModel | undefined {
  const groups = findPolicies(paths);
  if (groups.length !== 1) throw new UsageError(`expected one policy, found ${groups.length} (give one file or one policy directory)`);
  const result = compilePolicy((groups[0]?.files ?? []).map(readPolicyFile));
  const style = styleFor(process.stderr);
  if (result.diagnostics.length > 0) writeErr(result.diagnostics.map((d) => render(d, style)).join("\n\n"));
  return result.model;
}

export function runCompile(options: CompileOptions): number {
  const emitter = EMITTERS[options.emit];
  if (!emitter) throw new UsageError(`--emit must be one of: ${Object.keys(EMITTERS).join(", ")}`);
  const model = loadModel(options.paths);
  if (!model) return 1;
  const emitted = emitter(model);
  if (options.outDir === undefined) {
    for (const file of emitted.files) writeOut(file.text);
    return 0;
  }
  mkdirSync(options.outDir, { recursive: true });
  for (const file of emitted.files) {
    const path = join(options.outDir, file.name);
    writeFileSync(path, file.text);
    writeErr(`wrote ${path}`);
  }
  return 0;
}

export const compileCommand: Command = {
  name: "compile",
  summary: "compile a policy with one back end (--emit plan|bpf|programs|model)",
  usage: `Usage: mptcp-policy compile --emit KIND [-o DIR] PATH

Checks one policy (a file or a policy directory) and runs a back end on it. With
errors, prints them and exits 1 without output.

Options:
  --emit KIND     plan: the path-manager plan as JSON (strategy, reasons, limits,
                  endpoints, rules with their Netlink commands)
                  bpf: the schedulers as BPF C (sched_core.h, sched.bpf.c and the
                  hand-written headers they include; 'build' compiles them)
                  programs: the 'mptcp for' statements as BPF C (the socket()
                  hook; the names it matches are data set when 'run' loads it)
                  model: the checked policy model as JSON
  -o, --output DIR  write the output files into DIR instead of printing them
  -h, --help      show this help`,
  options: { emit: { type: "string" }, output: { type: "string", short: "o" }, help: { type: "boolean", short: "h" } },
  run(values, positionals) {
    if (typeof values["emit"] !== "string") throw new UsageError("compile needs --emit KIND (try 'mptcp-policy compile --help')");
    const output = values["output"];
    return runCompile({ emit: values["emit"], paths: requirePaths(positionals, "compile"), outDir: typeof output === "string" ? output : undefined });
  },
};
