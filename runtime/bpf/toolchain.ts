// Building BPF objects: clang for the generated C, the mptcp-policy-bpf helper (libbpf)
// for everything that needs the bpf() system call. No shell: programs run with
// execFile and argument arrays; policy text only ever reaches C through files.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { emitBpf, STRUCT_OPS_FILE, TEST_FILE, type EmittedFile } from "../../compiler/scheduler/emit.js";
import type { PolicyModel } from "../../compiler/model.js";

/** clang names tried in order: Debian's versioned package first. */
const CLANG_NAMES = ["clang-19", "clang-20", "clang-18", "clang"];

export class ToolchainError extends Error {
  override readonly name = "ToolchainError";
}

/** clang failed on generated C: a bug of ours, or a toolchain problem; stderr kept. */
export class CompileError extends Error {
  override readonly name = "CompileError";
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

let clangPath: string | undefined;

export function findClang(): string {
  if (clangPath) return clangPath;
  const override = process.env["MPTCP_POLICY_CLANG"];
  for (const name of override ? [override] : CLANG_NAMES) {
    const probe = spawnSync(name, ["--version"], { encoding: "utf8" });
    if (probe.status === 0) return (clangPath = name);
  }
  throw new ToolchainError("clang is not installed: install clang-19 (apt install clang-19; in a checkout, bash scripts/setup.sh does)");
}

/** The libbpf headers the generated C includes; without them clang's error would look like our bug. */
const LIBBPF_HEADER = "/usr/include/bpf/bpf_helpers.h";

function requireLibbpfHeaders(): void {
  if (!existsSync(LIBBPF_HEADER)) throw new ToolchainError(`libbpf's headers are not installed (${LIBBPF_HEADER}): install libbpf-dev (apt install libbpf-dev)`);
}

/** The libbpf helper built next to the CLI bundle (dist/mptcp-policy-bpf). */
export function findHelper(): string {
  const candidates = [
    process.env["MPTCP_POLICY_BPF_HELPER"],
    fileURLToPath(new URL("./mptcp-policy-bpf", import.meta.url)),
    fileURLToPath(new URL("../../dist/mptcp-policy-bpf", import.meta.url)),
  ];
  for (const c of candidates) if (c && existsSync(c)) return c;
  throw new ToolchainError(
    "the BPF helper dist/mptcp-policy-bpf is not built: install gcc and libbpf-dev, then run 'npm run build' (bash scripts/setup.sh does both)",
  );
}

export const CFLAGS = ["-g", "-O2", "-target", "bpf", "-Wall", "-Werror"];

/** clang -target bpf on one file of dir; returns the object's path. */
export function compileBpf(dir: string, source: string, object = source.replace(/\.c$/, ".o")): string {
  const clang = findClang();
  requireLibbpfHeaders();
  const result = spawnSync(clang, [...CFLAGS, "-c", source, "-o", object], { cwd: dir, encoding: "utf8" });
  if (result.status !== 0) {
    const stderr = result.stderr || String(result.error ?? "");
    const first = stderr.split("\n").find((l) => l.includes("error:"));
    throw new CompileError(`clang failed on ${join(dir, source)}${first ? `: ${first.trim()}` : ""}`, stderr);
  }
  return join(dir, object);
}

export function writeFiles(dir: string, files: readonly EmittedFile[]): void {
  mkdirSync(dir, { recursive: true });
  for (const f of files) writeFileSync(join(dir, f.name), f.text);
}

export interface BuiltPolicy {
  readonly dir: string;
  /** The struct_ops object: one scheduler per block (and the dispatcher). */
  readonly structOps: string;
  /** The decision core in an XDP program for test runs. */
  readonly test: string;
}

/** Write the generated C for a policy into dir and compile both objects. */
export function buildPolicy(model: PolicyModel, dir: string): BuiltPolicy {
  writeFiles(dir, emitBpf(model));
  return { dir, structOps: compileBpf(dir, STRUCT_OPS_FILE), test: compileBpf(dir, TEST_FILE) };
}

/** Version line of the clang in use, for messages. */
export function clangVersion(): string {
  return execFileSync(findClang(), ["--version"], { encoding: "utf8" }).split("\n")[0] ?? "";
}
