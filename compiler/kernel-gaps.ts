// Which parts of a policy the running kernel cannot honour, one finding per rule or
// endpoint, with its position: the daemon logs them at start and on every reload, so
// a policy that the kernel can only partly honour still runs and nothing fails
// silently. Pure: the kernel's features come in as plain booleans (null: unknown,
// taken as present, so a probe that could not run never invents a warning).
import type { PolicyModel, SourceRef } from "./model.js";

export interface KernelCapabilities {
  /** MPTCP_EVENT_LISTENER_CREATED/CLOSED are sent (Linux 6.2+). */
  readonly listenerEvents: boolean | null;
  /** Endpoints keep the `laminar` flag (Linux 6.18+; older kernels drop it silently). */
  readonly laminarEndpoints: boolean | null;
  /** SUBFLOW_CREATE honours its backup flag and interface (not Linux 6.1). */
  readonly subflowCreateFlags?: boolean | null;
}

export interface KernelGap {
  readonly at: SourceRef;
  /** The kernel feature that is missing, as `status` names it. */
  readonly feature: "listener_events" | "laminar_endpoints" | "subflow_create_flags";
  /** What the policy line asks for and what happens instead, one sentence. */
  readonly message: string;
}

export function kernelGaps(model: PolicyModel, kernel: KernelCapabilities): KernelGap[] {
  const gaps: KernelGap[] = [];
  if (kernel.listenerEvents === false) {
    for (const rule of model.rules) {
      if (rule.event !== "listener_created" && rule.event !== "listener_closed") continue;
      gaps.push({
        at: rule.at,
        feature: "listener_events",
        message: `'on ${rule.event}' never fires: this kernel sends no listener events (Linux 6.2 and later do)`,
      });
    }
  }
  if (kernel.laminarEndpoints === false) {
    for (const endpoint of model.endpoints) {
      if (!endpoint.flags.includes("laminar")) continue;
      gaps.push({
        at: endpoint.at,
        feature: "laminar_endpoints",
        message: "the endpoint's 'laminar' flag is left out: this kernel does not know it (Linux 6.18 and later do); its other flags apply",
      });
    }
  }
  if (kernel.subflowCreateFlags === false) {
    for (const rule of model.rules) {
      for (const action of rule.actions) {
        if (action.op !== "create" || action.via === undefined) continue;
        const backup = action.backup ? "; its backup flag is set with MP_PRIO once it is up" : "";
        gaps.push({
          at: action.at,
          feature: "subflow_create_flags",
          message: `'create via ${action.via}' is not bound to ${action.via}'s link on this kernel (it ignores SUBFLOW_CREATE's interface): the subflow leaves by the route to its destination, so give each link a route to the peer${backup}`,
        });
      }
    }
  }
  if (kernel.subflowCreateFlags === false) {
    const zone = model.zones?.[0];
    if (zone !== undefined) {
      gaps.push({
        at: zone.at,
        feature: "subflow_create_flags",
        message: "the subflows the daemon opens are not bound to their interface on this kernel (it ignores SUBFLOW_CREATE's interface): one whose route leaves by another zone's link is closed once it is up, so give each zone's links the routes to its peers",
      });
    }
  }
  return gaps.sort((a, b) => a.at.file.localeCompare(b.at.file) || a.at.line - b.at.line);
}

/** Endpoint flags the kernel keeps: what the daemon asks for and compares with what it reads back. */
export function supportedEndpointFlags<T extends string>(flags: readonly T[], kernel: KernelCapabilities): T[] {
  return kernel.laminarEndpoints === false ? flags.filter((f) => f !== "laminar") : [...flags];
}
