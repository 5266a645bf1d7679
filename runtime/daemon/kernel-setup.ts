// The namespace-wide configuration the daemon owns: which path manager runs, the
// limits, and (under the in-kernel path manager) the endpoints. What was there
// before is saved at start and put back on exit; a reload applies only the
// differences.
import { readFileSync, writeFileSync } from "node:fs";
import { supportedEndpointFlags, type KernelCapabilities } from "../../compiler/kernel-gaps.js";
import type { PolicyModel } from "../../compiler/model.js";
import type { Strategy } from "../../compiler/plan.js";
import { limitMaximum, NetlinkError, type AddressSpec, type Endpoint, type InterfaceTracker, type Limits, type MptcpPathManager } from "../netlink/index.js";
import { addressesOf } from "./local-addresses.js";
import type { Logger } from "./logger.js";

const PROC = "/proc/sys/net/mptcp";

/** The sysctl that selects the path manager, as the kernel feature probe found it. */
export type PathManagerSysctl = "path_manager" | "pm_type";

export function setPathManager(strategy: Strategy, sysctl: PathManagerSysctl): void {
  if (sysctl === "path_manager") writeFileSync(`${PROC}/path_manager`, strategy);
  else writeFileSync(`${PROC}/pm_type`, strategy === "kernel" ? "0" : "1");
}

export function currentPathManager(sysctl: PathManagerSysctl): Strategy {
  if (sysctl === "path_manager") return readFileSync(`${PROC}/path_manager`, "utf8").trim() === "userspace" ? "userspace" : "kernel";
  return readFileSync(`${PROC}/pm_type`, "utf8").trim() === "1" ? "userspace" : "kernel";
}

export interface SavedState {
  readonly pathManager: Strategy;
  /** How the path manager was switched (older saved files lack it: pm_type works on every kernel). */
  readonly pathManagerSysctl?: PathManagerSysctl;
  readonly limits: Limits;
  readonly endpoints: readonly Endpoint[];
}

export async function saveState(pm: MptcpPathManager, sysctl: PathManagerSysctl): Promise<SavedState> {
  return { pathManager: currentPathManager(sysctl), pathManagerSysctl: sysctl, limits: await pm.getLimits(), endpoints: await pm.listEndpoints() };
}

/**
 * The endpoints a policy wants now, from its `endpoint` lines and the current
 * addresses, with only the flags this kernel keeps (one that drops `laminar` would
 * otherwise differ from what was asked at every comparison, and be replaced each time).
 */
export function desiredEndpoints(model: PolicyModel, tracker: InterfaceTracker, kernel: KernelCapabilities): AddressSpec[] {
  return model.endpoints.flatMap((endpoint) => {
    const base = { flags: supportedEndpointFlags(endpoint.flags, kernel), ...(endpoint.port !== undefined ? { port: endpoint.port } : {}) };
    if ("address" in endpoint.target) return [{ ...base, address: endpoint.target.address.address }];
    const iface = model.interfaces.find((i) => "iface" in endpoint.target && i.name === endpoint.target.iface);
    return addressesOf(tracker, iface).map((a) => ({ ...base, address: a.address, ifindex: a.ifindex }));
  });
}

function sameFlags(a: readonly string[] | number | undefined, b: readonly string[]): boolean {
  const left = Array.isArray(a) ? [...a].sort().join(",") : "";
  return left === [...b].sort().join(",");
}

/**
 * Make the kernel's endpoints what the policy wants: delete those it does not want,
 * add the missing ones. Endpoints whose flags changed are replaced. With `only`, the
 * endpoints of that one address are looked at and the others left alone.
 */
export async function syncEndpoints(pm: MptcpPathManager, wanted: readonly AddressSpec[], logger: Logger, only?: string): Promise<void> {
  const current = (await pm.listEndpoints()).filter((e) => only === undefined || e.address === only);
  const byAddress = new Map(wanted.filter((w) => only === undefined || w.address === only).map((w) => [w.address, w]));
  for (const endpoint of current) {
    const want = byAddress.get(endpoint.address);
    if (want && sameFlags(want.flags, endpoint.flags) && (want.port ?? 0) === (endpoint.port ?? 0)) {
      byAddress.delete(endpoint.address);
      continue;
    }
    await pm.deleteEndpoint(endpoint.id, endpoint.address);
    logger.info({ result: "ok", request: `DEL_ADDR ${endpoint.address} (id ${endpoint.id})` }, "endpoint removed");
  }
  for (const endpoint of byAddress.values()) {
    await pm.addEndpoint(endpoint);
    logger.info({ result: "ok", request: `ADD_ADDR ${endpoint.address} ${Array.isArray(endpoint.flags) ? endpoint.flags.join(" ") : ""}` }, "endpoint added");
  }
}

/**
 * Set the policy's limits. The language takes up to 64 (Linux 7's maximum); a kernel
 * with a lower one (8 before Linux 7) refuses the whole request. The daemon then sets
 * the maximum its answer names instead, says so once with the `limits` line, and goes
 * on: a lower limit is no reason not to enforce the rest of the policy.
 */
export async function applyLimits(pm: MptcpPathManager, model: PolicyModel, logger: Logger): Promise<void> {
  const wanted: Partial<Limits> = { ...(model.limits.subflows !== undefined ? { subflows: model.limits.subflows } : {}), ...(model.limits.addAddrAccepted !== undefined ? { add_addr_accepted: model.limits.addAddrAccepted } : {}) };
  if (Object.keys(wanted).length === 0) return;
  let applied = wanted;
  try {
    await pm.setLimits(wanted);
  } catch (error) {
    if (!(error instanceof NetlinkError)) throw error;
    const maximum = limitMaximum(error.extack);
    if (maximum === undefined) throw error;
    applied = Object.fromEntries(Object.entries(wanted).map(([name, value]) => [name, Math.min(value, maximum)]));
    const at = model.limits.at ? `${model.limits.at.file}:${model.limits.at.line}` : "limits";
    const lowered = Object.entries(wanted).flatMap(([name, value]) => (value > maximum ? [`${name} ${maximum} instead of ${value}`] : []));
    logger.warn(
      { at, result: error.code, extack: error.extack, maximum, request: `SET_LIMITS ${JSON.stringify(wanted)}` },
      `${at}: this kernel allows limits of at most ${maximum} (it answered "${error.extack}"): set ${lowered.join(", ")}`,
    );
    await pm.setLimits(applied);
  }
  logger.info({ result: "ok", request: `SET_LIMITS ${JSON.stringify(applied)}` }, "limits set");
}

/** Put back what was there before the daemon started. */
export async function restoreState(pm: MptcpPathManager, saved: SavedState, logger: Logger): Promise<void> {
  await syncEndpoints(
    pm,
    saved.endpoints.map((e) => ({ address: e.address, id: e.id, flags: e.flags, ...(e.port !== undefined ? { port: e.port } : {}), ...(e.ifindex !== undefined ? { ifindex: e.ifindex } : {}) })),
    logger,
  );
  await pm.setLimits(saved.limits);
  setPathManager(saved.pathManager, saved.pathManagerSysctl ?? "pm_type");
  logger.info({ path_manager: saved.pathManager }, "restored the path manager, limits and endpoints found at start");
}
