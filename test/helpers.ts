// Shared by the tests: run the real front end on text, and run the built CLI.
import { execFileSync, spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { compilePolicy } from "../compiler/pipeline.js";
import { toJson, type DiagnosticJson } from "../language/diagnostics.js";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const CLI = `${ROOT}bin/mptcp-policy`;

/**
 * Build the CLI bundle the tests run (bin/mptcp-policy loads dist/). Under vitest the
 * global setup built it once for all files (test/global-build.ts: a rebuild here would
 * rewrite dist/ under another file's running CLI). In a kernel-lab guest
 * (MPTCP_POLICY_VM) the host built it just before booting (scripts/vm/matrix.mjs), and
 * building again under emulation takes longer than a hook may.
 */
export function buildCli(): void {
  if (process.env["MPTCP_POLICY_VM"] !== undefined || process.env["MPTCP_POLICY_CLI_BUILT"] !== undefined) return;
  execFileSync(process.execPath, ["scripts/build.mjs"], { cwd: ROOT });
}

/**
 * A command prefix that runs a program with no capability at all, as the owner of this
 * checkout (root, for a checkout root made): root's power over file permissions and
 * CAP_NET_ADMIN are gone, yet the checkout stays reachable when it sits below a
 * private (0700) directory, as a home directory or `mktemp -d` is, which `nobody`
 * could not enter. Without a bounding set, exec gives root no capabilities back.
 */
export function withoutCapabilities(): string[] {
  const { uid, gid } = statSync(ROOT);
  return ["setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all"];
}

export function diagnose(text: string, name = "test.policy"): DiagnosticJson[] {
  return compilePolicy([{ name, text }]).diagnostics.map(toJson);
}

export function codes(text: string): string[] {
  return diagnose(text).map((d) => d.code);
}

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCli(args: string[], options: { cwd?: string; input?: string } = {}): CliResult {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd: options.cwd ?? ROOT, input: options.input, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
