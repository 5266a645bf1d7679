// Talking to the kernel's BPF subsystem through the mptcp-policy-bpf helper (libbpf):
// load and count instructions, test-run the decision core, benchmark, attach, detach.
// A refusal by the kernel becomes a BpfLoadError that keeps the verifier's log.
import { spawnSync } from "node:child_process";
import { RESULT_SIZE } from "../../compiler/scheduler/layout.js";
import { findHelper } from "./toolchain.js";

/** The kernel refused a program or a map (verifier, permissions, missing BTF types). */
export class BpfLoadError extends Error {
  override readonly name = "BpfLoadError";
  constructor(
    message: string,
    /** Everything libbpf and the verifier said, the verifier log included. */
    readonly log: string,
  ) {
    super(message);
  }
}

export const TEST_PROGRAM = "mpp_test";

function runHelper(args: readonly string[], input?: Uint8Array): Buffer {
  const result = spawnSync(findHelper(), args, { input, maxBuffer: 256 * 1024 * 1024 });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    const stderr = result.stderr.toString("utf8");
    const line = stderr.split("\n").find((l) => l.startsWith("error: "));
    throw new BpfLoadError(line ? line.slice("error: ".length) : `mptcp-policy-bpf ${args[0]} failed (status ${result.status})`, stderr);
  }
  return result.stdout;
}

export interface ProgramInfo {
  readonly name: string;
  /** Instructions after the verifier's rewrites (what runs). */
  readonly xlated_insns: number;
  readonly jited_bytes: number;
  /** Instructions the verifier processed. */
  readonly verified_insns: number;
}

/** Load every program of an object in the kernel (verifier included), then unload. */
export function loadObject(object: string): ProgramInfo[] {
  return runHelper(["load", object])
    .toString("utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as ProgramInfo);
}

/** Run the program once per input record (the mpp_input map's value); results in order. */
export function testRun(object: string, inputs: readonly Uint8Array[], program = TEST_PROGRAM): Uint8Array[] {
  if (inputs.length === 0) return [];
  const out = runHelper(["run", object, program], Buffer.concat(inputs));
  if (out.length !== inputs.length * RESULT_SIZE) throw new BpfLoadError(`expected ${inputs.length} results, got ${out.length / RESULT_SIZE}`, "");
  return inputs.map((_, i) => new Uint8Array(out.subarray(i * RESULT_SIZE, (i + 1) * RESULT_SIZE)));
}

export interface BenchResult extends ProgramInfo {
  /** Mean time per run, ns, as BPF_PROG_TEST_RUN measures it. */
  readonly ns: number;
  readonly repeat: number;
}

export function benchProgram(object: string, program: string, input: Uint8Array, repeat: number): BenchResult {
  const line = runHelper(["bench", object, program, String(repeat)], input)
    .toString("utf8")
    .trim();
  return { name: program, ...(JSON.parse(line) as Omit<BenchResult, "name">) };
}

export interface AttachedMaps {
  /** struct_ops maps registered now, by C variable name. */
  readonly registered: readonly string[];
  /** Maps an earlier attach had left pinned, unregistered first. */
  readonly unregistered: readonly string[];
}

/**
 * All or nothing: load the object, unregister what pinDir holds from an earlier attach,
 * then pin and register every struct_ops map; on a failure nothing of it stays.
 */
export function attachObject(object: string, pinDir: string): AttachedMaps {
  const out = lines(runHelper(["attach", object, pinDir]));
  return { registered: tagged(out, "registered"), unregistered: tagged(out, "unregistered") };
}

/** Unregister and unpin what attachObject pinned in pinDir. Returns the map names. */
export function detachPinned(pinDir: string): string[] {
  return tagged(lines(runHelper(["detach", pinDir])), "unregistered");
}

function tagged(out: readonly string[], tag: string): string[] {
  return out.filter((l) => l.startsWith(`${tag} `)).map((l) => l.slice(tag.length + 1));
}

function lines(out: Buffer): string[] {
  return out
    .toString("utf8")
    .split("\n")
    .filter((l) => l !== "");
}
