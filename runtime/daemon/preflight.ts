// Reasons to refuse to start, each a one-line message that says what to do:
// no CAP_NET_ADMIN, MPTCP disabled in this network namespace, policy files that
// someone other than root could change (as sshd refuses them).
import { readFileSync, statSync } from "node:fs";

const CAP_NET_ADMIN = 12;

export function hasNetAdmin(status: string = readFileSync("/proc/self/status", "utf8")): boolean {
  const match = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  return match !== null && (BigInt(`0x${match[1]}`) & (1n << BigInt(CAP_NET_ADMIN))) !== 0n;
}

export function mptcpProblem(procSys = "/proc/sys/net/mptcp"): string | undefined {
  let enabled: string;
  try {
    enabled = readFileSync(`${procSys}/enabled`, "utf8").trim();
  } catch {
    return "this kernel has no MPTCP (no /proc/sys/net/mptcp): build it with CONFIG_MPTCP=y";
  }
  return enabled === "1" ? undefined : "MPTCP is disabled in this network namespace. Try 'sysctl -w net.mptcp.enabled=1'.";
}

/** Files (and their directories) must be owned by root and not writable by group or others. */
export function permissionProblems(paths: readonly string[]): string[] {
  const problems: string[] = [];
  for (const path of paths) {
    const stats = statSync(path);
    if (stats.uid !== 0) problems.push(`${path} is owned by uid ${stats.uid}, not root. Try 'chown root ${path}', or start with --insecure-permissions.`);
    else if ((stats.mode & 0o022) !== 0) {
      problems.push(`${path} is writable by ${(stats.mode & 0o020) !== 0 ? "its group" : "others"}. Try 'chmod go-w ${path}', or start with --insecure-permissions.`);
    }
  }
  return problems;
}
