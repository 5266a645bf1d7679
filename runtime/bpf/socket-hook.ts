// Whether `mptcp for` can work on this kernel: BTF must have update_socket_protocol
// (Linux 6.6+), and the kernel must take an fmod_ret program on it. The second needs
// a trial: BTF says nothing about whether BPF trampolines are allowed (a Firecracker
// guest refuses them with EPERM), so the helper loads and attaches a program that
// changes nothing and detaches it at once.
import { spawnSync } from "node:child_process";
import type { Btf } from "./btf.js";
import { SOCKET_HOOK } from "../../compiler/programs/emit.js";
import { findHelper } from "./toolchain.js";

export interface SocketHookProbe {
  /** null: could not be told here (no helper, not root). */
  readonly available: boolean | null;
  readonly how: string;
}

export function probeSocketHook(btf: Btf): SocketHookProbe {
  if (!btf.funcs.has(SOCKET_HOOK)) return { available: false, how: `BTF: no ${SOCKET_HOOK}() (it came in Linux 6.6)` };
  if (typeof process.getuid === "function" && process.getuid() !== 0) return { available: null, how: `BTF: ${SOCKET_HOOK}(); the trial load needs root` };
  let helper: string;
  try {
    helper = findHelper();
  } catch {
    return { available: null, how: `BTF: ${SOCKET_HOOK}(); not tried: the BPF helper is not built` };
  }
  const trial = spawnSync(helper, ["socket-probe"], { encoding: "utf8" });
  if (trial.status === 0) return { available: true, how: `BTF: ${SOCKET_HOOK}(); an fmod_ret program on it loads and attaches` };
  const line = trial.stderr.split("\n").find((l) => l.startsWith("error: "))?.slice("error: ".length) ?? `the trial failed (status ${trial.status})`;
  const trampolines = /Operation not permitted|not supported/i.test(line) ? " (this kernel allows no BPF trampolines here)" : "";
  return { available: false, how: `BTF: ${SOCKET_HOOK}(), but the kernel refused an fmod_ret program on it: ${line}${trampolines}` };
}
