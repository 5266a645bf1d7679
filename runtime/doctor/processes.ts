// Other managers of MPTCP endpoints, and our own daemon, found by scanning /proc:
// only processes in this network namespace count (the endpoints are per namespace).
// Nothing is ever signalled; a process that vanishes mid-scan is skipped.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export interface ManagerProcess {
  readonly pid: number;
  /** "NetworkManager", "mptcpd" or "mptcp-policy" (a `run` daemon). */
  readonly kind: "NetworkManager" | "mptcpd" | "mptcp-policy";
}

export function findManagers(proc = "/proc"): ManagerProcess[] {
  let ownNetns: string;
  try {
    ownNetns = readlinkSync(`${proc}/self/ns/net`);
  } catch {
    return [];
  }
  const found: ManagerProcess[] = [];
  for (const entry of readdirSync(proc)) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const kind = kindOf(readFileSync(`${proc}/${entry}/comm`, "utf8").trim(), readFileSync(`${proc}/${entry}/cmdline`, "utf8").split("\0"));
      if (kind && readlinkSync(`${proc}/${entry}/ns/net`) === ownNetns) found.push({ pid, kind });
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

function kindOf(comm: string, argv: readonly string[]): ManagerProcess["kind"] | undefined {
  if (comm === "NetworkManager") return "NetworkManager";
  if (comm === "mptcpd") return "mptcpd";
  // `node .../bin/mptcp-policy run ...` or the installed `mptcp-policy run`.
  const cli = argv.findIndex((arg) => /(^|\/)mptcp-policy(\.js)?$/.test(arg));
  return cli >= 0 && argv[cli + 1] === "run" ? "mptcp-policy" : undefined;
}

/**
 * NetworkManager (1.40+) adds MPTCP endpoints for the addresses it configures unless
 * `connection.mptcp-flags` says `disabled` (0x1): read from its configuration
 * files, as its global default; per-connection settings are not read.
 */
export function networkManagerManagesMptcp(
  dirs = ["/etc/NetworkManager/NetworkManager.conf", "/etc/NetworkManager/conf.d", "/usr/lib/NetworkManager/conf.d"],
): boolean {
  let disabled = false;
  for (const path of dirs) {
    let files: string[];
    try {
      files = path.endsWith(".conf")
        ? [path]
        : readdirSync(path)
            .filter((f) => f.endsWith(".conf"))
            .sort()
            .map((f) => `${path}/${f}`);
    } catch {
      continue;
    }
    for (const file of files) {
      try {
        const match = /^\s*connection\.mptcp-flags\s*=\s*(\S+)/m.exec(readFileSync(file, "utf8"));
        if (match) disabled = match[1] === "0x1" || match[1] === "1" || match[1] === "disabled";
      } catch {
        // unreadable: the default stands
      }
    }
  }
  return !disabled;
}
