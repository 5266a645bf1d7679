// Builds the CLI bundle once, before any test file runs (vitest globalSetup). Test files
// run two at a time: one file's rebuild rewrote dist/ while another file's test ran the
// CLI from it (`fmt --check` exited 1 with no output in CI, 2026-12-08). buildCli()
// (helpers.ts) is then a no-op in the workers, which inherit the variable.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export default function setup(): void {
  // In a kernel-lab guest the host built it just before booting (scripts/vm/matrix.mjs).
  if (process.env["MPTCP_POLICY_VM"] !== undefined) return;
  execFileSync(process.execPath, ["scripts/build.mjs"], { cwd: fileURLToPath(new URL("..", import.meta.url)) });
  process.env["MPTCP_POLICY_CLI_BUILT"] = "1";
}
