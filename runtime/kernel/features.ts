// The kernel features mptcp-policy depends on, probed on the running kernel rather
// than guessed from its version number (distributions backport; the MPTCP
// development tree runs ahead): the kernel's own type information (BTF) says which
// code it has, the sysctls which switches, and one endpoint written and read back
// whether it keeps the `laminar` flag. The one table the daemon, `status` and the
// warnings read (docs/kernels.md lists every feature and how it is probed).
import { existsSync } from "node:fs";
import type { KernelCapabilities } from "../../compiler/kernel-gaps.js";
import { release } from "node:os";
import { readBtfFile, VMLINUX_BTF, type Btf } from "../bpf/btf.js";
import { detectSchedulerHook } from "../bpf/hook.js";
import { probeSocketHook } from "../bpf/socket-hook.js";
import { readSysctls, type KernelPathManager } from "../netlink/index.js";

export const FEATURE_NAMES = [
  "path_manager_switch",
  "listener_events",
  "laminar_endpoints",
  "subflow_create_flags",
  "get_addr_by_token",
  "mptcp_info",
  "scheduler_sysctl",
  "bpf_scheduler_hook",
  "socket_protocol_hook",
] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];

export interface Feature {
  /** null: could not be probed here (no BTF, no permission); `how` says why. */
  readonly available: boolean | null;
  /** What the feature is on this kernel, where there is more than yes or no. */
  readonly value?: string | number;
  /** How it was probed, or what is missing, in a few words for users. */
  readonly how: string;
}

export interface KernelFeatures {
  readonly release: string;
  readonly features: Readonly<Record<FeatureName, Feature>>;
}

/** What each feature means, for `status` and the warnings. */
export const FEATURE_DESCRIPTIONS: Readonly<Record<FeatureName, string>> = {
  path_manager_switch: "path manager switch",
  listener_events: "listener events",
  laminar_endpoints: "laminar endpoints",
  subflow_create_flags: "SUBFLOW_CREATE's backup flag and interface",
  get_addr_by_token: "GET_ADDR by token",
  mptcp_info: "struct mptcp_info",
  scheduler_sysctl: "scheduler sysctl",
  bpf_scheduler_hook: "BPF scheduler hook",
  socket_protocol_hook: "socket() hook (mptcp for)",
};

/** An address no network uses (RFC 5737, TEST-NET-1): the laminar probe's endpoint. */
export const PROBE_ADDRESS = "192.0.2.1";
const LAMINAR_BIT = 1 << 5;

export interface ProbeOptions {
  readonly netns?: string;
  /** Where endpoints are written and read back; without it, `laminar_endpoints` is not probed. */
  readonly pathManager?: KernelPathManager;
  /** BTF of another kernel, for tests. */
  readonly btfPath?: string;
}

export async function probeKernelFeatures(options: ProbeOptions = {}): Promise<KernelFeatures> {
  const btf = loadBtf(options.btfPath ?? VMLINUX_BTF);
  const sysctls = readSysctls(["path_manager", "pm_type", "scheduler", "available_schedulers"], options.netns);
  const fromBtf = (probe: (b: Btf) => Feature): Feature => (btf ? probe(btf) : { available: null, how: `no BTF at ${VMLINUX_BTF}` });
  return {
    release: release(),
    features: {
      path_manager_switch: pathManagerSwitch(sysctls),
      listener_events: fromBtf((b) => hasFunction(b, "mptcp_event_pm_listener", "sends MPTCP_EVENT_LISTENER_CREATED/CLOSED")),
      laminar_endpoints: options.pathManager ? await probeLaminar(options.pathManager) : { available: null, how: "not probed (needs the path manager)" },
      subflow_create_flags: fromBtf(subflowCreateBackup),
      get_addr_by_token: fromBtf((b) => hasFunction(b, "mptcp_userspace_pm_dump_addr", "dumps a connection's addresses")),
      mptcp_info: fromBtf(mptcpInfo),
      scheduler_sysctl: sysctls.has("scheduler")
        ? { available: true, value: sysctls.get("available_schedulers") ?? sysctls.get("scheduler") ?? "", how: "net.mptcp.scheduler" }
        : { available: false, how: "no net.mptcp.scheduler" },
      bpf_scheduler_hook: fromBtf((b) => {
        const hook = detectSchedulerHook(b);
        return { available: hook.present, how: hook.sentence };
      }),
      socket_protocol_hook: fromBtf(probeSocketHook),
    },
  };
}

function loadBtf(path: string): Btf | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return readBtfFile(path);
  } catch {
    return undefined;
  }
}

/** Linux 6.15 made `path_manager` (a name) the switch; `pm_type` (0 or 1) is older. */
function pathManagerSwitch(sysctls: ReadonlyMap<string, string>): Feature {
  if (sysctls.has("path_manager")) return { available: true, value: "path_manager", how: "net.mptcp.path_manager" };
  if (sysctls.has("pm_type")) return { available: true, value: "pm_type", how: "net.mptcp.pm_type" };
  return { available: false, how: "neither net.mptcp.path_manager nor net.mptcp.pm_type: no userspace path manager" };
}

function hasFunction(btf: Btf, name: string, what: string): Feature {
  return btf.funcs.has(name) ? { available: true, how: `BTF: ${name}() ${what}` } : { available: false, how: `BTF: no ${name}()` };
}

/**
 * Kernels whose subflow connect takes a `struct mptcp_pm_local` (address, id and flags)
 * carry SUBFLOW_CREATE's backup flag into the MP_JOIN; older ones (Debian 12's 6.1)
 * take only the address and look the flags up in the connection's announced list,
 * so the subflow is not a backup for the peer. The daemon then sends MP_PRIO once
 * the subflow is established (runtime/daemon/backup-repair.ts).
 */
function subflowCreateBackup(btf: Btf): Feature {
  const id = btf.funcs.get("__mptcp_subflow_connect");
  const local = id === undefined ? undefined : btf.prototype(id)?.params[1];
  if (local === undefined) return { available: null, how: "BTF: no __mptcp_subflow_connect()" };
  const type = btf.typeName(local.type);
  return type.includes("struct mptcp_pm_local")
    ? { available: true, how: `BTF: __mptcp_subflow_connect() takes ${type}` }
    : { available: false, how: `BTF: __mptcp_subflow_connect() takes ${type}: flags and interface are dropped` };
}

function mptcpInfo(btf: Btf): Feature {
  const id = btf.structs.get("mptcp_info");
  const size = id === undefined ? undefined : btf.size(id);
  if (id === undefined || size === undefined) return { available: false, how: "BTF: no struct mptcp_info" };
  return { available: true, value: size, how: `BTF: ${size} bytes, ${btf.entries(id).length} fields` };
}

/**
 * Kernels before 6.18 drop endpoint flags they do not know without an error, so the
 * flag is written on an endpoint of an address no network uses and read back. The
 * endpoint has no other flag (it opens and announces nothing) and is removed at once.
 */
async function probeLaminar(pm: KernelPathManager): Promise<Feature> {
  let id: number | undefined;
  try {
    await pm.addEndpoint({ address: PROBE_ADDRESS, flags: ["laminar"] });
    const endpoint = (await pm.listEndpoints()).find((e) => e.address === PROBE_ADDRESS);
    if (!endpoint) return { available: null, how: "the probe endpoint was not found again" };
    id = endpoint.id;
    const flags = endpoint.flags;
    const kept = Array.isArray(flags) ? flags.includes("laminar") : typeof flags === "number" && (flags & LAMINAR_BIT) !== 0;
    return kept ? { available: true, how: "an endpoint keeps the flag" } : { available: false, how: "the kernel dropped the flag of a test endpoint" };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "EINVAL") return { available: false, how: "the kernel refused the flag" };
    return { available: null, how: `not probed: ${(error as Error).message}` };
  } finally {
    if (id !== undefined) await pm.deleteEndpoint(id, PROBE_ADDRESS).catch(() => undefined);
  }
}

/** What the policy checks (compiler/kernel-gaps.ts) need to know of this kernel. */
export function policyCapabilities(kernel: KernelFeatures): KernelCapabilities {
  return {
    listenerEvents: kernel.features.listener_events.available,
    laminarEndpoints: kernel.features.laminar_endpoints.available,
    subflowCreateFlags: kernel.features.subflow_create_flags.available,
  };
}

/** The sysctl that switches the path manager, `path_manager` (6.15+) or `pm_type`. */
export function pathManagerSysctl(kernel: KernelFeatures): "path_manager" | "pm_type" {
  return kernel.features.path_manager_switch.value === "path_manager" ? "path_manager" : "pm_type";
}
