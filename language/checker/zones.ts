// Pass: `isolate IFACE, ...`, the zones a connection's subflows must stay in. Each
// isolate statement is one zone, the interfaces no isolate names are the default
// zone. An interface in two zones is an error (E800). A rule on a connection or
// subflow event whose condition leaves only other zones possible for the connection
// can never carry out its `create via` or `announce`: an error (E801); one whose
// condition leaves several zones possible is carried out only for some of them, and a
// `subflow` endpoint alone in its zone never opens a subflow: warnings (W800). The daemon refuses what crosses anyway; this says so before it runs.
import { error, warning } from "../diagnostics.js";
import type { Action, Condition, EndpointDecl, IsolateDecl, Name, Rule } from "../syntax-tree.js";
import { EVENT_BY_NAME } from "../vocabulary.js";
import type { CheckContext } from "./context.js";
import { resolveInterface } from "./references.js";

/** -1 is the default zone: the interfaces that no `isolate` names, declared or not. */
const DEFAULT_ZONE = -1;

interface Zones {
  readonly statements: readonly IsolateDecl[];
  /** Zone index of each interface an isolate names. */
  readonly of: ReadonlyMap<string, number>;
}

export function checkZones(context: CheckContext): void {
  const zones = collectZones(context);
  if (zones.statements.length === 0) return;
  for (const file of context.files) {
    for (const statement of file.statements) {
      if (statement.kind === "Rule") checkRule(context, zones, statement);
      else if (statement.kind === "Endpoint") checkEndpoint(context, zones, statement);
    }
  }
}

function collectZones(context: CheckContext): Zones {
  const statements: IsolateDecl[] = [];
  const of = new Map<string, number>();
  const first = new Map<string, Name>();
  for (const file of context.files) {
    for (const statement of file.statements) {
      if (statement.kind !== "Isolate") continue;
      const index = statements.length;
      statements.push(statement);
      for (const name of statement.interfaces) {
        if (!resolveInterface(context, name)) continue;
        const zone = of.get(name.text);
        if (zone === undefined) {
          of.set(name.text, index);
          first.set(name.text, name);
        } else if (zone !== index) {
          context.report(
            error("E800", name.span, `interface '${name.text}' is in two zones`, {
              related: [{ span: (first.get(name.text) as Name).span, message: "first isolated here" }],
              hints: ["an interface belongs to one zone: list it in one 'isolate' only, or merge the two statements"],
            }),
          );
        }
      }
    }
  }
  return { statements, of };
}

function zoneName(zones: Zones, zone: number): string {
  if (zone === DEFAULT_ZONE) return "the default zone (the interfaces no 'isolate' names)";
  const statement = zones.statements[zone] as IsolateDecl;
  return `the zone 'isolate ${statement.interfaces.map((n) => n.text).join(", ")}'`;
}

function zoneList(zones: Zones, indexes: readonly number[]): string {
  return indexes.map((z) => zoneName(zones, z)).join(" or ");
}

function zoneOf(zones: Zones, iface: string): number {
  return zones.of.get(iface) ?? DEFAULT_ZONE;
}

/** The zones whose connections the rule can fire for, judged by its `iface` tests alone. */
function possibleZones(context: CheckContext, zones: Zones, condition: Condition | undefined): Set<number> {
  const possible = new Set<number>();
  const declared = [...context.symbols.interfaces.keys()];
  for (let zone = DEFAULT_ZONE; zone < zones.statements.length; zone++) {
    // The default zone also holds every kernel interface the policy does not declare.
    const members: (string | undefined)[] = zone === DEFAULT_ZONE ? [...declared.filter((n) => !zones.of.has(n)), undefined] : declared.filter((n) => zones.of.get(n) === zone);
    if (members.some((iface) => condition === undefined || evaluate(condition, iface) !== false)) possible.add(zone);
  }
  return possible;
}

/** Kleene logic: the `iface` tests are known (the connection is on `iface`), every other test is unknown (undefined). */
function evaluate(condition: Condition, iface: string | undefined): boolean | undefined {
  switch (condition.kind) {
    case "Iface":
      return iface !== undefined && condition.names.some((n) => n.text === iface);
    case "Not": {
      const value = evaluate(condition.operand, iface);
      return value === undefined ? undefined : !value;
    }
    case "And": {
      let result: boolean | undefined = true;
      for (const operand of condition.operands) {
        const value = evaluate(operand, iface);
        if (value === false) return false;
        if (value === undefined) result = undefined;
      }
      return result;
    }
    case "Or": {
      let result: boolean | undefined = false;
      for (const operand of condition.operands) {
        const value = evaluate(operand, iface);
        if (value === true) return true;
        if (value === undefined) result = undefined;
      }
      return result;
    }
    default:
      return undefined;
  }
}

/** The interface (or address) a new subflow of this action leaves from or invites the peer to, if it names one. */
function localOf(action: Action): { readonly iface: Name } | { readonly address: string; readonly span: Action["span"] } | undefined {
  if (action.kind === "Create") {
    if (action.via) return { iface: action.via };
    if (action.from) return { address: action.from.text, span: action.from.span };
    return undefined; // from the connection's own address: in its zone
  }
  if (action.kind === "Announce") return action.target.kind === "Name" ? { iface: action.target } : { address: action.target.text, span: action.target.span };
  return undefined;
}

function checkRule(context: CheckContext, zones: Zones, rule: Rule): void {
  const event = EVENT_BY_NAME.get(rule.event.text);
  // Only these events tell the connection's interface; on the others the daemon
  // applies each action to the connections of its interface's zone, which no test can narrow.
  if (event === undefined || (event.subject !== "connection" && event.subject !== "subflow")) return;
  const possible = possibleZones(context, zones, rule.condition);
  if (possible.size === 0) return;
  for (const action of rule.actions) {
    const local = localOf(action);
    if (local === undefined) continue;
    const verb = action.kind === "Create" ? "create" : "announce";
    const written = action.kind === "Create" ? "create via" : "announce";
    if ("address" in local) {
      context.report(
        warning("W800", local.span, `the zone of ${local.address} is known only at run time: '${verb}' is refused for a connection of another zone`, {
          hints: [action.kind === "Create" ? "write 'create via IFACE' so that the checker can tell the zone" : "write 'announce IFACE' so that the checker can tell the zone"],
        }),
      );
      continue;
    }
    if (!context.symbols.interfaces.has(local.iface.text)) continue;
    const zone = zoneOf(zones, local.iface.text);
    const others = [...possible].filter((z) => z !== zone);
    if (!possible.has(zone)) {
      context.report(
        error("E801", local.iface.span, `'${written} ${local.iface.text}' crosses a zone: this rule fires only for connections of ${zoneList(zones, others)}, and '${local.iface.text}' is in ${zoneName(zones, zone)}`, {
          related: relatedZones(zones, [...possible, zone]),
          hints: [`a connection's subflows stay in the zone of its first subflow: ${verb} on an interface of that zone, or change the rule's 'iface' test`],
        }),
      );
    } else if (others.length > 0) {
      context.report(
        warning("W800", local.iface.span, `'${written} ${local.iface.text}' is carried out only for connections of ${zoneName(zones, zone)}; this rule also fires for connections of ${zoneList(zones, others)}`, {
          related: relatedZones(zones, [...possible, zone]),
          hints: [`test the interface in the rule so that it fires only where it can act: 'if iface in (...)' with interfaces of ${local.iface.text}'s zone`],
        }),
      );
    }
  }
}

/**
 * A `subflow` endpoint opens subflows from its interface for the connections on other
 * interfaces; when its zone has no other interface, every such connection is in
 * another zone, so it never opens one. A warning, not an error: a policy that lists an
 * endpoint on every interface is still one to run (the daemon refuses what crosses).
 */
function checkEndpoint(context: CheckContext, zones: Zones, endpoint: EndpointDecl): void {
  if (endpoint.target.kind !== "Name" || !context.symbols.interfaces.has(endpoint.target.text)) return;
  const flags = new Set(endpoint.flags.map((f) => f.text));
  if (!flags.has("subflow") || flags.has("signal") || flags.has("fullmesh") || flags.has("laminar")) return;
  const zone = zones.of.get(endpoint.target.text);
  if (zone === undefined) return;
  const members = [...zones.of].filter(([, z]) => z === zone);
  if (members.length > 1) return;
  context.report(
    warning("W800", endpoint.target.span, `endpoint '${endpoint.target.text}' never opens a subflow: it opens them for connections on other interfaces, and ${zoneName(zones, zone)} has no other`, {
      related: relatedZones(zones, [zone]),
      hints: [`a connection over '${endpoint.target.text}' gets no subflow from its own interface; remove the endpoint, or isolate '${endpoint.target.text}' together with other interfaces`],
    }),
  );
}

function relatedZones(zones: Zones, indexes: readonly number[]) {
  return [...new Set(indexes)].filter((z) => z !== DEFAULT_ZONE).map((z) => ({ span: (zones.statements[z] as IsolateDecl).span, message: "the zone is declared here" }));
}
