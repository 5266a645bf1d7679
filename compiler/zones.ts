// Zones (`isolate IFACE, ...`): which zone a kernel interface is in, and whether a
// subflow, or an action that would make one, stays in its connection's zone. Pure
// and browser-safe: the daemon asks it before each request and on each subflow
// event, `simulate` and the playground show the same refusals.
import type { PlannedAction } from "./decide.js";
import type { InterfaceMatcher } from "./interfaces.js";
import { zonesOf, type PolicyModel, type SourceRef } from "./model.js";

/** -1: the default zone, the interfaces that no `isolate` names (declared or not). */
export const DEFAULT_ZONE = -1;

export interface Zones {
  /** Whether the policy has any `isolate`: without one nothing is ever refused. */
  readonly active: boolean;
  /** The zone of a kernel interface: of the earliest `isolate` naming one of its policy names. */
  ofIfname(ifname: string | undefined): number;
  /** The zone of a policy interface name. */
  ofInterface(name: string): number;
  /** "the zone 'isolate vpn' (policy.policy:3)" or "the default zone". */
  describe(zone: number): string;
  at(zone: number): SourceRef | undefined;
}

const cache = new WeakMap<PolicyModel, WeakMap<InterfaceMatcher, Zones>>();

export function zonesFor(model: PolicyModel, matcher: InterfaceMatcher): Zones {
  let byMatcher = cache.get(model);
  if (!byMatcher) cache.set(model, (byMatcher = new WeakMap()));
  let zones = byMatcher.get(matcher);
  if (!zones) byMatcher.set(matcher, (zones = build(model, matcher)));
  return zones;
}

function build(model: PolicyModel, matcher: InterfaceMatcher): Zones {
  const list = zonesOf(model);
  const byName = new Map<string, number>();
  list.forEach((zone, index) => {
    for (const name of zone.interfaces) if (!byName.has(name)) byName.set(name, index);
  });
  const ofInterface = (name: string) => byName.get(name) ?? DEFAULT_ZONE;
  return {
    active: list.length > 0,
    ofInterface,
    ofIfname(ifname) {
      if (ifname === undefined) return DEFAULT_ZONE;
      let zone = DEFAULT_ZONE;
      for (const name of matcher(ifname)) {
        const z = byName.get(name);
        if (z !== undefined && (zone === DEFAULT_ZONE || z < zone)) zone = z;
      }
      return zone;
    },
    describe(zone) {
      const decl = list[zone];
      return decl === undefined ? "the default zone" : `the zone 'isolate ${decl.interfaces.join(", ")}' (${decl.at.file}:${decl.at.line})`;
    },
    at: (zone) => list[zone]?.at,
  };
}

/**
 * The kernel interfaces a subflow uses, as the runtime tells them: the one it is bound
 * to or whose address it leaves from, and the one whose network holds the remote
 * address, when one of this host's does. It stays in a zone when all of them do.
 */
export interface SubflowPath {
  readonly local: string | undefined;
  readonly remote?: string | undefined;
}

/** Undefined when the subflow stays in `zone`; else the interface that leaves it. */
export function crossingInterface(zones: Zones, zone: number, path: SubflowPath): string | undefined {
  if (!zones.active) return undefined;
  if (zones.ofIfname(path.local) !== zone) return path.local ?? "an interface of no zone";
  if (path.remote !== undefined && zones.ofIfname(path.remote) !== zone) return path.remote;
  return undefined;
}

/** Why an action would make (or invite) a subflow across the connection's zone; undefined when it would not. */
export function actionCrossing(zones: Zones, zone: number, action: PlannedAction, path: SubflowPath): string | undefined {
  if (action.op !== "create" && action.op !== "announce") return undefined;
  const across = crossingInterface(zones, zone, path);
  if (across === undefined) return undefined;
  const what = action.op === "create" ? "the subflow would use" : "the peer would join over";
  return `${what} ${across}, in ${zones.describe(zones.ofIfname(across))}, and the connection is in ${zones.describe(zone)}`;
}

/** What the zones do with one event, as `simulate` and the playground show it. */
export interface ZoneOutcome {
  /** The actions carried out. */
  readonly kept: readonly PlannedAction[];
  /** The actions refused for the event's connection, with why. */
  readonly refused: readonly { readonly action: PlannedAction; readonly reason: string }[];
  /** A subflow_established across the connection's zone: the daemon closes that subflow (and no rule acts on it). */
  readonly closes?: string;
}

/**
 * The zones on one event of a recorded session, by policy names (the session tells the
 * subflows' interfaces, not this host's addresses): a subflow established on an
 * interface of another zone is closed, and a `create via` or `announce` of another
 * zone's interface is refused for the event's connection. `run` decides the same
 * with the addresses it sees (runtime/daemon/zone-guard.ts).
 */
export function applyZones(zones: Zones, event: { readonly event: string; readonly ifname?: string | undefined }, connection: { readonly ifname?: string | undefined } | undefined, actions: readonly PlannedAction[]): ZoneOutcome {
  if (!zones.active || connection === undefined) return { kept: actions, refused: [] };
  const zone = zones.ofIfname(connection.ifname);
  if (event.event === "subflow_established" && event.ifname !== undefined) {
    const across = crossingInterface(zones, zone, { local: event.ifname });
    if (across !== undefined) return { kept: [], refused: [], closes: `the subflow uses ${across}, in ${zones.describe(zones.ofIfname(across))}, and the connection is in ${zones.describe(zone)}: closed` };
  }
  const kept: PlannedAction[] = [];
  const refused: { action: PlannedAction; reason: string }[] = [];
  for (const action of actions) {
    const iface = action.scope !== "connection" ? undefined : action.op === "create" ? action.via : action.op === "announce" ? action.iface : undefined;
    const other = iface !== undefined ? zones.ofInterface(iface) : zone;
    if (other === zone) kept.push(action);
    else refused.push({ action, reason: `${action.op === "create" ? "the subflow would use" : "the peer would join over"} ${iface}, in ${zones.describe(other)}, and the connection is in ${zones.describe(zone)}` });
  }
  return { kept, refused };
}
