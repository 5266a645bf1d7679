// Under the userspace path manager nobody in the kernel acts on `endpoint` lines, so
// the daemon does what the in-kernel path manager would: when a connection this host
// opened is established, open a subflow from each `subflow` endpoint and announce
// each `signal` one; mark subflows from `backup` endpoints as backups. Pure, so the
// simulator shows these actions next to the rules'.
import type { ConnectionState } from "./connections.js";
import type { PlannedAction } from "./decide.js";
import type { PolicyEvent } from "./events.js";
import type { InterfaceMatcher } from "./interfaces.js";
import type { EndpointModel, PolicyModel } from "./model.js";

export function endpointActions(model: PolicyModel, event: PolicyEvent, connection: ConnectionState | undefined, matcher: InterfaceMatcher): PlannedAction[] {
  if (!connection || event.token === undefined) return [];
  const base = (endpoint: EndpointModel) => ({ token: event.token, scope: "connection" as const, afterUs: 0, at: endpoint.at });
  const source = (endpoint: EndpointModel) => ("iface" in endpoint.target ? { via: endpoint.target.iface } : { from: endpoint.target.address.address });
  if (event.event === "established") {
    return model.endpoints.flatMap((endpoint): PlannedAction[] => {
      const actions: PlannedAction[] = [];
      const backup = endpoint.flags.includes("backup");
      // Subflows are opened by the side that opened the connection, as the kernel does,
      // and not from the interface the connection already uses.
      const ownInterface = "iface" in endpoint.target && event.ifname !== undefined && matcher(event.ifname).includes(endpoint.target.iface);
      const ownAddress = "address" in endpoint.target && endpoint.target.address.address === connection.saddr;
      if (!connection.serverSide && !ownInterface && !ownAddress && (endpoint.flags.includes("subflow") || endpoint.flags.includes("fullmesh"))) {
        actions.push({ ...base(endpoint), op: "create", ...source(endpoint), backup });
      }
      if (endpoint.flags.includes("signal")) {
        const target = "iface" in endpoint.target ? { iface: endpoint.target.iface } : { address: endpoint.target.address.address };
        actions.push({ ...base(endpoint), op: "announce", ...target, ...(endpoint.port !== undefined ? { port: endpoint.port } : {}) });
      }
      return actions;
    });
  }
  if (event.event === "subflow_established" && event.backup !== true) {
    return model.endpoints
      .filter((e) => e.flags.includes("backup") && "iface" in e.target)
      .map((endpoint): PlannedAction => ({ ...base(endpoint), op: "set", iface: (endpoint.target as { iface: string }).iface, backup: true }));
  }
  if (event.event === "announced" && !connection.serverSide) {
    return model.endpoints
      .filter((e) => e.flags.includes("laminar") || e.flags.includes("fullmesh"))
      .map((endpoint): PlannedAction => ({ ...base(endpoint), op: "create", ...source(endpoint), ...(event.daddr !== undefined ? { to: event.daddr } : {}), ...(event.dport !== undefined ? { port: event.dport } : {}), backup: endpoint.flags.includes("backup") }));
  }
  return [];
}
