// Shared by the tests: run the real front end on text, and run the built CLI.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { compilePolicy } from "../compiler/pipeline.js";
import { toJson, type DiagnosticJson } from "../language/diagnostics.js";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const CLI = `${ROOT}bin/mptcp-policy`;

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
