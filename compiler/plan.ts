// Lowering to the cheapest kernel mechanism that can express the policy. The
// in-kernel path manager is used when every rule only reacts to interface events by
// changing endpoints: the kernel then acts on every connection itself, with no round
// trip through user space. As soon as one rule acts per connection (or needs
// something endpoints cannot say), the userspace path manager takes over and the
// daemon carries out the static endpoints too. A pure function of the model.
import { EVENT_BY_NAME } from "../language/vocabulary.js";
import { zonesOf, type ActionModel, type EndpointModel, type PolicyModel, type RuleModel, type SourceRef } from "./model.js";
import { planProgramSelection, type PlannedProgramSelection } from "./programs/plan.js";

export type Strategy = "kernel" | "userspace";

/** One Netlink request of the mptcp_pm generic family, in words and attributes. */
export interface PlannedCommand {
  readonly command: "ADD_ADDR" | "DEL_ADDR" | "SET_FLAGS" | "SET_LIMITS" | "ANNOUNCE" | "REMOVE" | "SUBFLOW_CREATE" | "SUBFLOW_DESTROY";
  /** When and on what the daemon sends it. */
  readonly when: string;
  readonly attributes: Readonly<Record<string, unknown>>;
}

export interface Plan {
  readonly strategy: Strategy;
  readonly reasons: readonly string[];
  readonly path_manager: { readonly sysctl: "net.mptcp.path_manager"; readonly value: Strategy; readonly legacy: { readonly sysctl: "net.mptcp.pm_type"; readonly value: 0 | 1 } };
  readonly limits: { readonly subflows?: number; readonly add_addr_accepted?: number; readonly enforced_by: "kernel" | "daemon"; readonly commands: readonly PlannedCommand[] };
  readonly endpoints: readonly PlannedEndpoint[];
  readonly rules: readonly PlannedRule[];
  /** `mptcp for`: the BPF program on socket creation; absent without such a statement. */
  readonly program_selection?: PlannedProgramSelection;
  /** `isolate`: the zones, and who keeps connections in them; absent without such a statement. */
  readonly zones?: readonly PlannedZone[];
}

export interface PlannedZone {
  readonly at: SourceRef;
  readonly interfaces: readonly string[];
  /** The daemon refuses and closes what crosses; the kernel only when it adds no subflow at all. */
  readonly enforced_by: "kernel" | "daemon";
}

export interface PlannedEndpoint {
  readonly at: SourceRef;
  readonly iface?: string;
  readonly address?: string;
  readonly flags: readonly string[];
  readonly port?: number;
  readonly carried_out_by: "kernel" | "daemon";
  readonly commands: readonly PlannedCommand[];
}

export interface PlannedRule {
  readonly at: SourceRef;
  readonly trigger: { readonly event: string; readonly iface?: string; readonly conditional: boolean };
  readonly actions: readonly {
    readonly op: ActionModel["op"];
    readonly at: SourceRef;
    readonly after_ms: number;
    /** `create ... retry N`: N (compiler/retries.ts). */
    readonly retry?: number;
    readonly commands: readonly PlannedCommand[];
  }[];
}

export function planPolicy(model: PolicyModel): Plan {
  const reasons = [...zoneReasons(model), ...model.rules.flatMap(userspaceReason)];
  const strategy: Strategy = reasons.length > 0 ? "userspace" : "kernel";
  if (strategy === "kernel") {
    reasons.push(
      model.rules.length === 0
        ? "no rules: static endpoints and limits are all the in-kernel path manager needs"
        : model.rules.every((r) => r.actions.every((a) => a.op === "log"))
          ? "the rules only log: the kernel's events serve them under the in-kernel path manager, and no rule acts on a connection"
          : "every rule that acts reacts to interface events by changing endpoints, which the in-kernel path manager applies to all connections itself",
    );
  }
  const selection = planProgramSelection(model);
  const zones = zonesOf(model).map((z): PlannedZone => ({ at: z.at, interfaces: z.interfaces, enforced_by: strategy === "kernel" ? "kernel" : "daemon" }));
  const limitAttributes = { ...(model.limits.subflows !== undefined ? { subflows: model.limits.subflows } : {}), ...(model.limits.addAddrAccepted !== undefined ? { add_addr_accepted: model.limits.addAddrAccepted } : {}) };
  return {
    strategy,
    reasons,
    path_manager: { sysctl: "net.mptcp.path_manager", value: strategy, legacy: { sysctl: "net.mptcp.pm_type", value: strategy === "kernel" ? 0 : 1 } },
    limits: {
      ...limitAttributes,
      enforced_by: strategy === "kernel" ? "kernel" : "daemon",
      commands: strategy === "kernel" && Object.keys(limitAttributes).length > 0 ? [{ command: "SET_LIMITS", when: "at start and on reload", attributes: limitAttributes }] : [],
    },
    endpoints: model.endpoints.map((e) => planEndpoint(e, strategy)),
    rules: model.rules.map((r) => planRule(r, strategy)),
    ...(selection ? { program_selection: selection } : {}),
    ...(zones.length > 0 ? { zones } : {}),
  };
}

/**
 * Zones need the daemon: the in-kernel path manager accepts joins on every local
 * address and answers the peer's ADD_ADDR from whatever address routing picks, and
 * no endpoint can say "not for this connection". Only where the limits leave it no
 * subflow to add does the kernel keep every connection in its zone by itself.
 */
function zoneReasons(model: PolicyModel): string[] {
  const zones = zonesOf(model);
  if (zones.length === 0) return [];
  const first = zones[0] as (typeof zones)[number];
  if (model.limits.subflows === 0 && model.limits.addAddrAccepted === 0) return [];
  return [
    `${first.at.file}:${first.at.line}: 'isolate' keeps each connection's subflows in one zone, which the in-kernel path manager cannot: it accepts joins on every address and answers the peer's ADD_ADDR from whatever address routing picks`,
  ];
}

/** Why a rule needs the userspace path manager; empty when endpoints can express it. */
function userspaceReason(rule: RuleModel): string[] {
  const where = `${rule.at.file}:${rule.at.line}`;
  const acting = rule.actions.filter((a) => a.op !== "log");
  if (acting.length === 0) return [];
  const event = EVENT_BY_NAME.get(rule.event);
  if (event?.source === "mptcp") return [`${where}: 'on ${rule.event}' acts on one connection at a time`];
  if (event?.source === "daemon") return [`${where}: 'on ${rule.event}' is noticed by the daemon (the kernel sends no such event) and acts on one connection at a time`];
  for (const action of acting) {
    if (action.op === "create" && action.retry !== undefined) return [`${where}: 'create ... retry' needs the daemon to see each subflow fail and open it again`];
    if (action.op === "create" && (action.from !== undefined || action.to !== "remote" || action.port !== undefined || action.via === undefined)) {
      return [`${where}: 'create' with a chosen source, destination or port cannot be said with endpoints`];
    }
    if (action.op === "destroy" && action.via === undefined) return [`${where}: 'destroy' without 'via' names a single subflow`];
  }
  return [];
}

function endpointAttributes(e: { iface?: string; address?: string; flags: readonly string[]; port?: number }): Record<string, unknown> {
  return {
    ...(e.address !== undefined ? { addr: e.address } : { addr: `each address of ${e.iface}` }),
    ...(e.iface !== undefined ? { if_idx: e.iface } : {}),
    flags: e.flags,
    ...(e.port !== undefined ? { port: e.port } : {}),
  };
}

function planEndpoint(endpoint: EndpointModel, strategy: Strategy): PlannedEndpoint {
  const target = "iface" in endpoint.target ? { iface: endpoint.target.iface } : { address: endpoint.target.address.address };
  const base = { at: endpoint.at, ...target, flags: endpoint.flags, ...(endpoint.port !== undefined ? { port: endpoint.port } : {}) };
  if (strategy === "kernel") {
    return {
      ...base,
      carried_out_by: "kernel",
      commands: [{ command: "ADD_ADDR", when: "at start, and when an address of the interface appears (DEL_ADDR when it goes)", attributes: endpointAttributes(base) }],
    };
  }
  const commands: PlannedCommand[] = [];
  const local = target.iface !== undefined ? `an address of ${target.iface}` : target.address;
  if (endpoint.flags.includes("subflow") || endpoint.flags.includes("fullmesh")) {
    commands.push({
      command: "SUBFLOW_CREATE",
      when: endpoint.flags.includes("fullmesh") ? "on 'established', to every known peer address" : "on 'established', to the peer's address",
      attributes: { token: "the connection's", addr: local, addr_remote: "the peer", flags: endpoint.flags.filter((f) => f === "backup") },
    });
  }
  if (endpoint.flags.includes("laminar")) {
    commands.push({
      command: "SUBFLOW_CREATE",
      when: "on 'announced', to the announced address when its family matches",
      attributes: { token: "the connection's", addr: local, addr_remote: "the announced address", flags: endpoint.flags.filter((f) => f === "backup") },
    });
  }
  if (endpoint.flags.includes("signal")) {
    commands.push({ command: "ANNOUNCE", when: "on 'established'", attributes: { token: "the connection's", addr: local, ...(endpoint.port !== undefined ? { port: endpoint.port } : {}) } });
  }
  if (endpoint.flags.includes("backup") && commands.length === 0) {
    // A backup-only endpoint marks subflows that use the address, whoever opened them.
    commands.push({ command: "SET_FLAGS", when: "on 'subflow_established' of a subflow from this address", attributes: { token: "the connection's", addr: local, flags: ["backup"] } });
  }
  return { ...base, carried_out_by: "daemon", commands };
}

function planRule(rule: RuleModel, strategy: Strategy): PlannedRule {
  return {
    at: rule.at,
    trigger: { event: rule.event, ...(rule.iface !== undefined ? { iface: rule.iface } : {}), conditional: rule.condition !== undefined },
    actions: rule.actions.map((a) => ({
      op: a.op,
      at: a.at,
      after_ms: a.afterUs / 1000,
      ...(a.op === "create" && a.retry !== undefined ? { retry: a.retry } : {}),
      commands: strategy === "kernel" ? kernelCommands(a) : userspaceCommands(a, rule),
    })),
  };
}

/** Endpoint changes; the kernel applies them to every connection. */
function kernelCommands(action: ActionModel): PlannedCommand[] {
  switch (action.op) {
    case "create":
      return [{ command: "ADD_ADDR", when: "when the rule fires", attributes: endpointAttributes({ iface: action.via, flags: action.backup ? ["subflow", "backup"] : ["subflow"] }) }];
    case "destroy":
      return [{ command: "DEL_ADDR", when: "when the rule fires", attributes: { addr: `the endpoints of ${action.via}` } }];
    case "announce":
    case "withdraw": {
      const target = "iface" in action.target ? { iface: action.target.iface } : { address: action.target.address.address };
      return action.op === "announce"
        ? [{ command: "ADD_ADDR", when: "when the rule fires", attributes: endpointAttributes({ ...target, flags: ["signal"], ...(action.port !== undefined ? { port: action.port } : {}) }) }]
        : [{ command: "DEL_ADDR", when: "when the rule fires", attributes: { addr: target.address ?? `the endpoints of ${target.iface}` } }];
    }
    case "set":
      return [{ command: "SET_FLAGS", when: "when the rule fires", attributes: { addr: `the endpoints of ${action.iface}`, flags: action.backup ? ["backup"] : [] } }];
    case "log":
      return [];
  }
}

/** Per-connection requests, addressed by the connection's token. */
function userspaceCommands(action: ActionModel, rule: RuleModel): PlannedCommand[] {
  const perConnection = EVENT_BY_NAME.get(rule.event)?.hasConnection === true;
  const when = perConnection ? "for the event's connection" : "for every open connection";
  switch (action.op) {
    case "create": {
      const local = action.via !== undefined ? `an address of ${action.via}` : (action.from?.address ?? "the connection's local address");
      const remote = typeof action.to === "object" ? action.to.address.address : action.to === "announced" ? "the announced address" : "the connection's remote address";
      const again = action.retry !== undefined ? `; again, up to ${action.retry} more time${action.retry === 1 ? "" : "s"}, when the subflow fails to open` : "";
      return [
        {
          command: "SUBFLOW_CREATE",
          when: when + again,
          attributes: { token: "the connection's", addr: local, addr_remote: remote, ...(action.port !== undefined ? { port: action.port } : {}), flags: action.backup ? ["backup"] : [] },
        },
      ];
    }
    case "destroy":
      return [{ command: "SUBFLOW_DESTROY", when, attributes: { token: "the connection's", subflow: action.via !== undefined ? `each subflow on ${action.via}` : "the event's subflow" } }];
    case "announce": {
      const addr = "iface" in action.target ? `an address of ${action.target.iface}` : action.target.address.address;
      return [{ command: "ANNOUNCE", when, attributes: { token: "the connection's", addr, ...(action.port !== undefined ? { port: action.port } : {}) } }];
    }
    case "withdraw": {
      const addr = "iface" in action.target ? `the addresses of ${action.target.iface}` : action.target.address.address;
      return [{ command: "REMOVE", when, attributes: { token: "the connection's", loc_id: `the id announced for ${addr}` } }];
    }
    case "set":
      return [{ command: "SET_FLAGS", when, attributes: { token: "the connection's", addr: `each subflow on ${action.iface}`, flags: action.backup ? ["backup"] : [] } }];
    case "log":
      return [];
  }
}
