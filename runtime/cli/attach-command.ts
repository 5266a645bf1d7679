// `mptcp-policy attach PATH` and `detach`: load a policy's schedulers into the kernel
// and select them for the current network namespace, or undo that. Where the kernel
// lacks the BPF scheduler hook, attach says so in one sentence and exits 1.
import { AttachError, attachPolicy, detachPolicy } from "../bpf/attach.js";
import { ToolchainError } from "../bpf/toolchain.js";
import { requirePaths, type Command } from "./command.js";
import { loadModel } from "./compile-command.js";
import { InputError } from "./errors.js";
import { writeErr, writeOut } from "./output.js";

/** Sockets bind a scheduler when they are created; say so after each change. */
const BINDING_NOTE =
  "note: a socket takes net.mptcp.scheduler when it is created, and an accepted connection its listener's: connections and listening sockets that already exist keep the scheduler they have (restart a server to move its listener)";

export const attachCommand: Command = {
  name: "attach",
  summary: "load a policy's schedulers and select them for this network namespace",
  usage: `Usage: mptcp-policy attach [--btf FILE] PATH

Checks one policy, builds its schedulers (as 'build' does), registers them with
the kernel and sets net.mptcp.scheduler for the current network namespace: the
policy's one scheduler, or 'mptcp_policy', which picks among several by 'for'.
All or nothing: what an earlier attach registered (also one that crashed) is
replaced, and when a scheduler cannot be registered none stays registered.
Sockets created from then on use the schedulers; existing connections and
listening sockets keep the one they have.
Needs root and a kernel with the BPF hook for MPTCP schedulers (struct_ops
mptcp_sched_ops); without it, exits 1 and says what the kernel lacks.

Options:
  --btf FILE   read the kernel's types from FILE, not /sys/kernel/btf/vmlinux
  -h, --help   show this help`,
  options: { btf: { type: "string" }, help: { type: "boolean", short: "h" } },
  run(values, positionals) {
    const model = loadModel(requirePaths(positionals, "attach"));
    if (!model) return 1;
    try {
      const result = attachPolicy(model, typeof values["btf"] === "string" ? { btf: values["btf"] } : {});
      const replaced = result.replaced.length > 0 ? ` (replacing the earlier attach's ${result.replaced.join(", ")})` : "";
      writeOut(`registered ${result.registered.join(", ")}${replaced}; net.mptcp.scheduler = ${result.selected}`);
      writeErr(BINDING_NOTE);
      return 0;
    } catch (cause) {
      return failure(cause);
    }
  },
};

export const detachCommand: Command = {
  name: "detach",
  summary: "unregister the attached schedulers and restore the kernel's default",
  usage: `Usage: mptcp-policy detach

Unregisters the schedulers that 'attach' registered (also those of an attach
that crashed), removes its pins under /sys/fs/bpf/mptcp-policy, and sets
net.mptcp.scheduler back to 'default' where it names one of them. Connections
opened while they were attached keep them until they close. Nothing attached
is not an error.

Options:
  -h, --help   show this help`,
  options: { help: { type: "boolean", short: "h" } },
  run() {
    try {
      const result = detachPolicy();
      if (result.unregistered.length === 0 && !result.restored) {
        writeOut("nothing attached");
        return 0;
      }
      const restored = result.restored ? "; net.mptcp.scheduler = default" : "";
      writeOut(`unregistered ${result.unregistered.join(", ") || "nothing"}${restored}`);
      writeErr("note: connections opened while they were attached keep their scheduler until they close");
      return 0;
    } catch (cause) {
      return failure(cause);
    }
  },
};

function failure(cause: unknown): number {
  if (cause instanceof ToolchainError) throw new InputError(cause.message);
  if (cause instanceof AttachError) {
    writeErr(`mptcp-policy: ${cause.message}`);
    if (cause.log && process.env["MPTCP_POLICY_DEBUG"]) writeErr(cause.log);
    return 1;
  }
  throw cause;
}
