// What the tests of the installed Debian package share (test/package-install.test.ts,
// test/fleet-playbook.test.ts): where they run, the package, and commands that must work.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import packageJson from "../package.json" with { type: "json" };
import { ROOT } from "./helpers.js";

/** Only in the kernel lab's --systemd guest: systemd is PID 1 and the root a throwaway overlay. */
export const inSystemdGuest =
  process.env["MPTCP_POLICY_VM"] !== undefined && existsSync("/proc/1/comm") && readFileSync("/proc/1/comm", "utf8").trim() === "systemd";
export const VERSION = packageJson.version;
const ARCH = spawnSync("dpkg", ["--print-architecture"], { encoding: "utf8" }).stdout.trim();
export const DEB = join(ROOT, `dist/mptcp-policy_${VERSION}_${ARCH}.deb`);
export const POLICY = "/etc/mptcp-policy/main.policy";
export const DROP_IN = "/etc/systemd/system/mptcp-policy.service.d";
/** What purge must give back as it was: configuration, systemd's records of enabled units. */
export const WATCHED = ["/etc", "/var/lib/systemd/deb-systemd-helper-enabled", "/var/lib/systemd/deb-systemd-helper-masked"];

export function run(command: string, args: readonly string[], options: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {}) {
  const result = spawnSync(command, args, {
    encoding: "utf8",
    input: options.input,
    env: { ...process.env, ...options.env },
    timeout: options.timeoutMs ?? 300_000,
  });
  return { status: result.status, stdout: result.stdout ?? "", stderr: result.stderr ?? "", output: `${result.stdout ?? ""}${result.stderr ?? ""}` };
}

export function ok(command: string, args: readonly string[], options?: Parameters<typeof run>[2]): string {
  const result = run(command, args, options);
  expect(result.status, `${command} ${args.join(" ")}:\n${result.output}`).toBe(0);
  return result.stdout;
}

/** Every path under `paths` with its type and mode, sorted: what purge is compared by. */
export function tree(paths: readonly string[]): string[] {
  return paths
    .flatMap((p) => (existsSync(p) ? ok("find", [p, "-xdev", "-printf", "%p %y %m\n"]).split("\n") : []))
    .filter((l) => l !== "")
    .sort();
}

export const journal = () => run("journalctl", ["-u", "mptcp-policy", "-o", "cat", "--no-pager"]).stdout;
