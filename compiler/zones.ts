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
