// `mptcp-policy explain PATH`: the plan in words, rule by rule, and what `run` does
// with each scheduler block on the running kernel.
import { explainPolicy, type KernelDescription } from "../../compiler/explain.js";
import { requirePaths, type Command } from "./command.js";
import { loadModel } from "./compile-command.js";
import { UsageError } from "./errors.js";
import { writeOut } from "./output.js";

export const explainCommand: Command = {
  name: "explain",
  summary: "say in words what a policy will make the kernel do",
  usage: `Usage: mptcp-policy explain [--scheduler-fallback approximate|off] PATH

Checks one policy and explains, rule by rule, which path manager it uses and why,
the limits and endpoints it sets, and what each rule does when it fires. For each
scheduler block it says what 'mptcp-policy run' does with it on this kernel:
attaches it as BPF where the kernel has the hook, else approximates it with backup
flags, or leaves the kernel's default scheduler to decide.

Options:
  --scheduler-fallback M   as run's: approximate (default) or off
  -h, --help               show this help`,
  options: {
    "scheduler-fallback": { type: "string", default: "approximate" },
    help: { type: "boolean", short: "h" },
  },
  async run(values, positionals) {
    const fallback = values["scheduler-fallback"];
    if (fallback !== "approximate" && fallback !== "off") throw new UsageError("--scheduler-fallback must be 'approximate' or 'off'");
    const model = loadModel(requirePaths(positionals, "explain"));
    if (!model) return 1;
    const kernel = model.schedulers.length > 0 ? await probeKernel() : undefined;
    writeOut(explainPolicy(model, undefined, { kernel, schedulerFallback: fallback }));
    return 0;
  },
};

/**
 * The hook as the daemon sees it: a kernel whose BTF cannot be read counts as one
 * without the hook. No path manager is passed, so the probe writes no endpoint.
 */
async function probeKernel(): Promise<KernelDescription> {
  // Loaded here: explain without schedulers never reads the kernel's BTF.
  const { probeKernelFeatures } = await import("../kernel/features.js");
  const { release, features } = await probeKernelFeatures();
  const hook = features.bpf_scheduler_hook;
  return { bpfSchedulerHook: hook.available === true, detail: `Linux ${release}; ${hook.how}` };
}
