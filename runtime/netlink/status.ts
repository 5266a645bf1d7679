// The MPTCP state of a network namespace in one value: which path manager is
// selected, its limits and endpoints, and the live connections with their
// subflows (sock_diag) and listeners. `mptcp-policy status` prints it.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { Family } from "./addresses.js";
import { SockDiag, type MptcpInfo } from "./diag.js";
import { InterfaceTracker } from "./interfaces.js";
import type { Endpoint, Limits } from "./mptcp-codec.js";
import { MptcpPathManager } from "./path-manager.js";
import type { NetlinkSocketOptions } from "./socket.js";

export interface EndpointStatus extends Endpoint {
  readonly ifname?: string;
}

export interface SubflowStatus {
  readonly family: Family;
  readonly state: string;
  readonly saddr: string;
  readonly daddr: string;
  readonly sport: number;
  readonly dport: number;
  readonly locid: number;
  readonly remid: number;
  readonly backup: boolean;
  readonly remote_backup: boolean;
  readonly fully_established: boolean;
  readonly ifindex?: number;
  readonly ifname?: string;
  readonly rtt_us?: number;
}

export interface ConnectionStatus {
  readonly token: string;
  readonly family: Family;
  readonly state: string;
  readonly saddr: string;
  readonly daddr: string;
  readonly sport: number;
  readonly dport: number;
  /** The connection fell back to plain TCP. */
  readonly fallback: boolean;
  readonly info?: MptcpInfo;
  readonly subflows: readonly SubflowStatus[];
}

export interface ListenerStatus {
  readonly family: Family;
  readonly saddr: string;
  readonly sport: number;
}

export interface MptcpStatus {
  readonly enabled: boolean;
  /** "kernel", "userspace", or what net.mptcp.path_manager says on newer kernels. */
  readonly path_manager: string;
  readonly limits: Limits;
  readonly endpoints: readonly EndpointStatus[];
  readonly connections: readonly ConnectionStatus[];
  readonly listeners: readonly ListenerStatus[];
}

/** net.mptcp sysctls of the current namespace, or of a named one (one `ip netns exec`), by name. */
export function readSysctls(names: readonly string[], netns?: string): Map<string, string> {
  const values = new Map<string, string>();
  const paths = names.map((name) => `/proc/sys/net/mptcp/${name}`);
  if (netns === undefined) {
    for (const [i, path] of paths.entries()) {
      try {
        values.set(names[i]!, readFileSync(path, "utf8").trim());
      } catch {
        // not in this kernel
      }
    }
    return values;
  }
  const result = spawnSync("ip", ["netns", "exec", netns, "grep", "-H", ".", ...paths], { encoding: "utf8" });
  for (const line of result.stdout.split("\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) values.set(line.slice(0, colon).replace("/proc/sys/net/mptcp/", ""), line.slice(colon + 1).trim());
  }
  return values;
}

/** net.mptcp.path_manager (Linux 6.15+), else net.mptcp.pm_type (0 kernel, 1 userspace). */
export function pathManagerName(sysctls: ReadonlyMap<string, string>): string {
  const name = sysctls.get("path_manager");
  if (name) return name;
  const type = sysctls.get("pm_type");
  return type === "1" ? "userspace" : type === "0" ? "kernel" : "unknown";
}

export async function readStatus(options: NetlinkSocketOptions = {}): Promise<MptcpStatus> {
  const sysctls = readSysctls(["enabled", "path_manager", "pm_type"], options.netns);
  const enabled = sysctls.get("enabled");
  const pm = await MptcpPathManager.open(options);
  const diag = new SockDiag(options);
  let tracker: InterfaceTracker | undefined;
  try {
    tracker = await InterfaceTracker.start(options);
    const [limits, endpoints, sockets, subflows] = await Promise.all([pm.getLimits(), pm.listEndpoints(), diag.mptcpSockets(), diag.subflows()]);
    const links = tracker;
    const nameOf = (ifindex: number | undefined): string | undefined => (ifindex ? links.nameOf(ifindex) : undefined);
    // Subflows grouped by token once: a lookup per connection stays linear with 10,000 of them.
    const subflowsByToken = new Map<string, typeof subflows>();
    for (const f of subflows) {
      const group = subflowsByToken.get(f.token);
      if (group) group.push(f);
      else subflowsByToken.set(f.token, [f]);
    }
    const connections: ConnectionStatus[] = sockets
      .filter((s) => s.state !== "LISTEN")
      .map((s) => ({
        token: s.info?.token ?? "",
        family: s.family,
        state: s.state,
        saddr: s.saddr,
        daddr: s.daddr,
        sport: s.sport,
        dport: s.dport,
        fallback: s.info?.fallback ?? false,
        ...(s.info ? { info: s.info } : {}),
        subflows: (s.info === undefined ? [] : (subflowsByToken.get(s.info.token) ?? []))
          .slice()
          .sort((a, b) => a.locid - b.locid || a.sport - b.sport)
          .map((f) => {
            const link = f.ifindex ? links.byIndex(f.ifindex) : links.interfaceOf(f.saddr);
            return {
              family: f.family,
              state: f.state,
              saddr: f.saddr,
              daddr: f.daddr,
              sport: f.sport,
              dport: f.dport,
              locid: f.locid,
              remid: f.remid,
              backup: f.backup,
              remote_backup: f.remote_backup,
              fully_established: f.fully_established,
              ...(link ? { ifindex: link.ifindex, ifname: link.ifname } : {}),
              ...(f.rtt_us !== undefined ? { rtt_us: f.rtt_us } : {}),
            };
          }),
      }))
      .sort((a, b) => a.token.localeCompare(b.token));
    const listeners = sockets.filter((s) => s.state === "LISTEN").map((s) => ({ family: s.family, saddr: s.saddr, sport: s.sport }));
    return {
      enabled: enabled === undefined ? true : enabled === "1",
      path_manager: pathManagerName(sysctls),
      limits,
      endpoints: endpoints.map((e) => {
        const ifname = nameOf(e.ifindex);
        return ifname !== undefined ? { ...e, ifname } : e;
      }),
      connections,
      listeners,
    };
  } finally {
    pm.close();
    diag.close();
    tracker?.close();
  }
}
