// What `doctor` reads from the live system, once, before any check runs: sysctls,
// limits and endpoints, interfaces and addresses, rp_filter, other managers, kernel
// features, and route lookups from each policy interface's addresses to the peers.
// Reading only: nothing is written (the feature probe's endpoint is skipped).
import { readFileSync } from "node:fs";
import type { PolicyModel } from "../../compiler/model.js";
import { planPolicy, type Strategy } from "../../compiler/plan.js";
import { pathManagerSysctl, probeKernelFeatures, type KernelFeatures } from "../kernel/features.js";
import { InterfaceTracker, MptcpPathManager, readStatus, type Endpoint, type LinkInfo, type Limits } from "../netlink/index.js";
import { currentPathManager } from "../daemon/kernel-setup.js";
import { addressesOf } from "../daemon/local-addresses.js";
import { findManagers, networkManagerManagesMptcp, type ManagerProcess } from "./processes.js";
import { RouteLookup, type RouteResult } from "./routes.js";

export interface RouteCheck {
  /** The policy interface and the kernel interface the address is on. */
  readonly iface: string;
  readonly link: LinkInfo;
  readonly source: string;
  readonly peer: string;
  /** Where the main lookup (by destination and source, no device) sends it. */
  readonly unbound: RouteResult;
  /** The lookup of a subflow bound to the interface (as the daemon's are). */
  readonly bound: RouteResult;
}

export interface DoctorFacts {
  readonly mptcp: "enabled" | "disabled" | "missing";
  readonly pathManager?: Strategy;
  readonly limits?: Limits;
  readonly endpoints: readonly Endpoint[];
  readonly links: readonly LinkInfo[];
  /** Effective IPv4 rp_filter per interface name (the larger of `all` and the interface's). */
  readonly rpFilter: ReadonlyMap<string, number>;
  readonly managers: readonly ManagerProcess[];
  readonly networkManagerMptcp: boolean;
  readonly kernel: KernelFeatures;
  /** ADD_ADDR options received from peers since boot (MPTcpExtAddAddr; undefined where the counter is missing). */
  readonly addAddrReceived?: number;
  readonly peers: readonly string[];
  readonly routes: readonly RouteCheck[];
  /** Per policy interface name, the kernel interfaces its patterns match. */
  readonly matched: ReadonlyMap<string, readonly LinkInfo[]>;
  /** Per policy interface name, its usable addresses. */
  readonly usable: ReadonlyMap<string, readonly { address: string; ifindex: number; family: string }[]>;
}

function readNumber(path: string): number | undefined {
  try {
    return Number(readFileSync(path, "utf8").trim());
  } catch {
    return undefined;
  }
}

/** A counter of this namespace's MPTcpExt MIB (/proc/net/netstat, as nstat reads it). */
function mptcpCounter(name: string): number | undefined {
  let text: string;
  try {
    text = readFileSync("/proc/net/netstat", "utf8");
  } catch {
    return undefined;
  }
  const [names, values] = text.split("\n").filter((l) => l.startsWith("MPTcpExt:"));
  const index = names?.split(/\s+/).indexOf(name) ?? -1;
  return index > 0 ? Number(values?.split(/\s+/)[index]) : undefined;
}

export async function gatherFacts(model: PolicyModel): Promise<DoctorFacts> {
  const enabled = readNumber("/proc/sys/net/mptcp/enabled");
  const mptcp = enabled === undefined ? "missing" : enabled === 1 ? "enabled" : "disabled";
  const kernel = await probeKernelFeatures({});
  const tracker = await InterfaceTracker.start();
  try {
    const links = tracker.list();
    const matched = new Map(
      model.interfaces.map((i) => [i.name, links.filter((l) => i.patterns.some((p) => tracker.resolve(p).some((r) => r.ifindex === l.ifindex)))]),
    );
    const usable = new Map(
      model.interfaces.map((i) => [i.name, addressesOf(tracker, i).filter((a) => a.scope === 0 && links.find((l) => l.ifindex === a.ifindex)?.up === true)]),
    );
    let pathManager: Strategy | undefined;
    let limits: Limits | undefined;
    let endpoints: Endpoint[] = [];
    let peers: string[] = [];
    if (mptcp !== "missing") {
      try {
        pathManager = currentPathManager(pathManagerSysctl(kernel));
      } catch {
        // no such sysctl
      }
      const pm = await MptcpPathManager.open();
      try {
        limits = await pm.getLimits();
        endpoints = await pm.listEndpoints();
      } finally {
        pm.close();
      }
      const status = await readStatus();
      peers = status.connections.flatMap((c) => [c.daddr, ...c.subflows.map((s) => s.daddr)]);
    }
    // The peers: those of live connections, and the addresses the policy sends subflows to.
    for (const rule of model.rules)
      for (const action of rule.actions) if (action.op === "create" && typeof action.to === "object") peers.push(action.to.address.address);
    peers = [...new Set(peers)];
    const rpFilter = new Map<string, number>();
    const all = readNumber("/proc/sys/net/ipv4/conf/all/rp_filter") ?? 0;
    for (const link of links) rpFilter.set(link.ifname, Math.max(all, readNumber(`/proc/sys/net/ipv4/conf/${link.ifname}/rp_filter`) ?? 0));
    const routes = await lookUpRoutes(model, matched, usable, peers);
    const addAddrReceived = mptcpCounter("AddAddr");
    return {
      ...(addAddrReceived !== undefined ? { addAddrReceived } : {}),
      mptcp,
      ...(pathManager ? { pathManager } : {}),
      ...(limits ? { limits } : {}),
      endpoints,
      links,
      rpFilter,
      managers: findManagers(),
      networkManagerMptcp: networkManagerManagesMptcp(),
      kernel,
      peers,
      routes,
      matched,
      usable,
    };
  } finally {
    tracker.close();
  }
}

async function lookUpRoutes(
  model: PolicyModel,
  matched: DoctorFacts["matched"],
  usable: DoctorFacts["usable"],
  peers: readonly string[],
): Promise<RouteCheck[]> {
  if (peers.length === 0 || planPolicy(model) === undefined) return [];
  const lookup = new RouteLookup();
  const checks: RouteCheck[] = [];
  try {
    for (const iface of model.interfaces) {
      for (const address of usable.get(iface.name) ?? []) {
        const link = matched.get(iface.name)?.find((l) => l.ifindex === address.ifindex);
        if (!link) continue;
        for (const peer of peers) {
          if (peer.includes(":") !== (address.family === "ipv6")) continue;
          const unbound = await lookup.lookup({ dst: peer, src: address.address });
          const bound = await lookup.lookup({ dst: peer, src: address.address, oif: link.ifindex });
          checks.push({ iface: iface.name, link, source: address.address, peer, unbound, bound });
        }
      }
    }
  } finally {
    lookup.close();
  }
  return checks;
}
