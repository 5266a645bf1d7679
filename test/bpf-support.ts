// Whether the BPF tests can run here, and why not (cilium/ebpf's SkipOnOldKernel idea:
// a test that cannot run says so instead of failing or passing silently).
import { spawnSync } from "node:child_process";
import { findClang, findHelper } from "../runtime/bpf/toolchain.js";

let reason: string | false | undefined;

/** false when clang, the libbpf helper and root are all there; otherwise the reason. */
export function bpfUnavailable(): string | false {
  if (reason !== undefined) return reason;
  try {
    findClang();
    findHelper();
  } catch (cause) {
    return (reason = (cause as Error).message);
  }
  if (process.getuid?.() !== 0) return (reason = "BPF test runs need root");
  return (reason = false);
}

/** clang is enough for compile-only tests. */
export function clangUnavailable(): string | false {
  try {
    findClang();
    return false;
  } catch (cause) {
    return (cause as Error).message;
  }
}

export function hasTool(name: string): boolean {
  return spawnSync(name, ["--version"]).status === 0;
}
