// The decision core: (policy, connection state, event) → the rule that fires and the
// actions it asks for, with their source positions. Pure and browser-safe: the
// daemon runs it on kernel events, `simulate` on recorded ones, the playground on
// a timeline. Rules are tried in order and the first whose trigger and condition
// match fires.
import { EVENT_BY_NAME } from "../language/vocabulary.js";
import type { ConnectionState } from "./connections.js";
import { evaluateCondition, type Facts } from "./evaluate-condition.js";
import type { PolicyEvent } from "./events.js";
import type { InterfaceMatcher } from "./interfaces.js";
import type { ActionModel, PolicyModel, RuleModel, SourceRef } from "./model.js";

/** An action with everything the event and the connection tell about its operands. */
export type PlannedAction = {
  /** Which connection it acts on: the event's, or every connection (interface events). */
  readonly token?: string;
  readonly scope: "connection" | "every_connection" | "none";
  readonly afterUs: number;
  readonly at: SourceRef;
} & (
  | {
      readonly op: "create";
      readonly via?: string;
      readonly from?: string;
      readonly to?: string;
      readonly port?: number;
      readonly backup: boolean;
      /** With `retry N`: which try this is (1 for the rule's own create) ... */
      readonly attempt?: number;
      /** ... of how many at most (N + 1). Absent without `retry`. */
      readonly attempts?: number;
    }
  | { readonly op: "destroy"; readonly via?: string; readonly subflow?: SubflowAddress }
  | { readonly op: "announce"; readonly iface?: string; readonly address?: string; readonly port?: number }
  | { readonly op: "withdraw"; readonly iface?: string; readonly address?: string }
  | { readonly op: "set"; readonly iface: string; readonly backup: boolean }
  | { readonly op: "log"; readonly message: string }
);

export interface SubflowAddress {
  readonly saddr?: string;
  readonly sport?: number;
  readonly daddr?: string;
  readonly dport?: number;
}

export interface Decision {
  readonly rule: { readonly index: number; readonly at: SourceRef } | undefined;
  readonly actions: readonly PlannedAction[];
}

const NO_RULE: Decision = { rule: undefined, actions: [] };

export function decide(model: PolicyModel, event: PolicyEvent, connection: ConnectionState | undefined, matchInterfaces: InterfaceMatcher): Decision {
  // Only the rules of this event are tried, and an event no rule is on costs one lookup:
  // on a busy server most events (created, subflow_established, closed, ...) are such.
  const candidates = rulesByEvent(model).get(event.event);
  if (candidates === undefined) return NO_RULE;
  const facts = factsOf(event, connection, matchInterfaces);
  let rule: IndexedRule | undefined;
  for (const r of candidates) {
    if (triggers(r, facts) && (r.condition === undefined || evaluateCondition(r.condition, facts))) {
      rule = r;
      break;
    }
  }
  if (!rule) return NO_RULE;
  return { rule: rule.ref, actions: rule.actions.map((a) => plan(a, event, connection)) };
}

/** The rules of each event, in policy order, worked out once per model (models are immutable). */
const indexes = new WeakMap<PolicyModel, ReadonlyMap<string, readonly IndexedRule[]>>();
type IndexedRule = RuleModel & { readonly ref: NonNullable<Decision["rule"]> };

function rulesByEvent(model: PolicyModel): ReadonlyMap<string, readonly IndexedRule[]> {
  let index = indexes.get(model);
  if (index === undefined) {
    const byEvent = new Map<string, IndexedRule[]>();
    for (const rule of model.rules) {
      const list = byEvent.get(rule.event) ?? [];
      list.push({ ...rule, ref: { index: rule.index, at: rule.at } });
      byEvent.set(rule.event, list);
    }
    index = byEvent;
    indexes.set(model, index);
  }
  return index;
}

function triggers(rule: RuleModel, facts: Facts): boolean {
  return rule.iface === undefined || (facts.ifaces?.includes(rule.iface) ?? false);
}

/** What the rule's condition can test, per event kind (see EVENTS in the vocabulary). */
export function factsOf(event: PolicyEvent, connection: ConnectionState | undefined, matchInterfaces: InterfaceMatcher): Facts {
  const info = EVENT_BY_NAME.get(event.event);
  const ifaces = event.ifname !== undefined ? matchInterfaces(event.ifname) : undefined;
  const side = connection ? (connection.serverSide ? "server" : "client") : undefined;
  const family = event.family ?? connection?.family;
  const subflows = connection?.subflows.length;
  switch (info?.subject) {
    case "connection":
    case "subflow":
      return {
        ifaces,
        local: event.saddr ?? connection?.saddr,
        remote: event.daddr ?? connection?.daddr,
        localPort: event.sport ?? connection?.sport,
        remotePort: event.dport ?? connection?.dport,
        family,
        side,
        backup: event.backup ?? (event.saddr !== undefined ? false : undefined),
        error: event.error,
        subflows,
      };
    case "announcement":
      // `remote` is the announced address; for `removed` the withdrawn one, which the
      // table hands back (the kernel's event carries only its id).
      return {
        local: connection?.saddr,
        localPort: connection?.sport,
        remote: event.event === "announced" ? event.daddr : (event.daddr ?? connection?.withdrawn?.address),
        remotePort: event.event === "announced" ? event.dport : undefined,
        family,
        side,
        subflows,
      };
    case "listener":
      return { local: event.saddr, localPort: event.sport, family };
    case "interface":
      return { ifaces };
    case "address":
      return { ifaces, local: event.address, family };
    default:
      return {};
  }
}

function plan(action: ActionModel, event: PolicyEvent, connection: ConnectionState | undefined): PlannedAction {
  const perConnection = EVENT_BY_NAME.get(event.event)?.hasConnection === true;
  const scope = action.op === "log" ? "none" : perConnection ? "connection" : "every_connection";
  const base = { ...(perConnection && event.token !== undefined ? { token: event.token } : {}), scope, afterUs: action.afterUs, at: action.at } as const;
  switch (action.op) {
    case "create": {
      const announced = action.to === "announced";
      const to = typeof action.to === "object" ? action.to.address.address : announced ? event.daddr : connection?.daddr;
      const port = action.port ?? (announced ? (event.dport ?? connection?.dport) : connection?.dport);
      return {
        ...base,
        op: "create",
        ...(action.via !== undefined ? { via: action.via } : {}),
        ...(action.from !== undefined ? { from: action.from.address } : {}),
        ...(to !== undefined ? { to } : {}),
        ...(port !== undefined ? { port } : {}),
        backup: action.backup,
        ...(action.retry !== undefined ? { attempt: 1, attempts: action.retry + 1 } : {}),
      };
    }
    case "destroy":
      return action.via !== undefined
        ? { ...base, op: "destroy", via: action.via }
        : { ...base, op: "destroy", subflow: { saddr: event.saddr, sport: event.sport, daddr: event.daddr, dport: event.dport } };
    case "announce":
    case "withdraw": {
      const target = "iface" in action.target ? { iface: action.target.iface } : { address: action.target.address.address };
      return action.op === "announce" ? { ...base, op: "announce", ...target, ...(action.port !== undefined ? { port: action.port } : {}) } : { ...base, op: "withdraw", ...target };
    }
    case "set":
      return { ...base, op: "set", iface: action.iface, backup: action.backup };
    case "log":
      return { ...base, op: "log", message: action.message };
  }
}
