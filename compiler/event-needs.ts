// Which of the kernel's MPTCP events a policy needs the daemon to receive. The others
// are dropped by the kernel before they are queued (a socket filter, runtime/netlink/
// event-filter.ts): on a busy server each event the daemon does not read is a wakeup,
// a decode and a slot of the receive buffer saved. Pure, so `explain` and the tests
// say the same as `run`. When in doubt an event is kept: a dropped event that was
// needed is a rule that never fires.
import type { ActionModel, ConditionModel, PolicyModel } from "./model.js";
import { zonesOf } from "./model.js";
import { EVENT_BY_NAME } from "../language/vocabulary.js";

/** The MPTCP events of the kernel's mptcp_pm_events group, by name. */
export const KERNEL_EVENTS = [
  "created",
  "established",
  "closed",
  "announced",
  "removed",
  "subflow_established",
  "subflow_closed",
  "subflow_priority",
  "listener_created",
  "listener_closed",
] as const;
export type KernelEventName = (typeof KERNEL_EVENTS)[number];

const SUBFLOW_EVENTS: readonly KernelEventName[] = ["subflow_established", "subflow_closed", "subflow_priority"];
const ANNOUNCE_EVENTS: readonly KernelEventName[] = ["announced", "removed"];
/** Rules on these are fed by sampling the subflows of the connection table. */
const SAMPLED_EVENTS: readonly string[] = ["subflow_stale", "subflow_recovered"];

export interface EventNeedsContext {
  /** Something counts every event (`run --metrics`). */
  readonly countsEvents: boolean;
}

export interface EventNeeds {
  /** Events the daemon can go without, in KERNEL_EVENTS order (empty: every event is read). */
  readonly dropped: readonly KernelEventName[];
  /** Why nothing, or not more, is dropped: one short clause, for the log. */
  readonly keptBecause: string;
  /**
   * When set, the only policy interfaces whose connections the daemon acts on: a
   * connection's `created` and `established` from an address of any other interface can
   * be dropped too (by source address; the connection then stays unknown to the daemon,
   * its `closed` excepted). Undefined: every connection is followed.
   */
  readonly connectionInterfaces?: readonly string[];
}

/**
 * `established` and `closed` are always read: they make and drop a connection's entry,
 * which every action on a connection looks up. So is `created`: it wakes the daemon
 * just before the connection's `established`, and with it read the rule's subflow came
 * 0.07-0.18 ms sooner at the median (bench-daemon at 200/s, 2026-12-07, three runs
 * each way) for no CPU that the benchmark could tell apart. The rest is read when a
 * rule is on it, or when something the policy uses follows it (below).
 */
export function eventNeeds(model: PolicyModel, context: EventNeedsContext): EventNeeds {
  const all = (why: string): EventNeeds => ({ dropped: [], keptBecause: why });
  if (context.countsEvents) return all("the metrics count every event");
  if (zonesOf(model).length > 0) return all("zones (isolate) watch every subflow");
  if (model.schedulers.length > 0) return all("schedulers follow every subflow");
  if (model.rules.some((r) => SAMPLED_EVENTS.includes(r.event))) return all("stale detection samples every subflow");
  const needed = new Set<string>(["created", "established", "closed", ...model.rules.map((r) => r.event)]);
  const reasons: string[] = [];
  const subflows = subflowsFollowed(model);
  if (subflows) {
    for (const e of SUBFLOW_EVENTS) needed.add(e);
    reasons.push(subflows);
  }
  const announcements = announcementsFollowed(model);
  if (announcements) {
    for (const e of ANNOUNCE_EVENTS) needed.add(e);
    reasons.push(announcements);
  }
  const dropped = KERNEL_EVENTS.filter((e) => !needed.has(e));
  const interfaces = model.endpoints.length > 0 ? undefined : connectionInterfaces(model);
  return { dropped, keptBecause: reasons.length > 0 ? reasons.join("; ") : "rules are on them", ...(interfaces ? { connectionInterfaces: interfaces } : {}) };
}

const CONNECTION_OPENING: readonly string[] = ["created", "established"];

/**
 * The interfaces whose connections a rule can act on, when that is all the daemon
 * needs connections for: every rule on a connection is on `created` or `established`
 * and tests `iface`; rules on interface or listener events only log (an action of
 * theirs would reach every open connection).
 */
function connectionInterfaces(model: PolicyModel): readonly string[] | undefined {
  const names = new Set<string>();
  for (const rule of model.rules) {
    const info = EVENT_BY_NAME.get(rule.event);
    if (!info?.hasConnection) {
      if (rule.actions.some((a) => a.op !== "log")) return undefined;
      continue;
    }
    if (!CONNECTION_OPENING.includes(rule.event)) return undefined;
    const possible = rule.condition === undefined ? "any" : interfacesWhere(rule.condition);
    if (possible === "any") return undefined;
    for (const name of possible) names.add(name);
  }
  return [...names].sort();
}

/** The policy interfaces a connection can be on for the condition to hold, or "any". */
function interfacesWhere(condition: ConditionModel): ReadonlySet<string> | "any" {
  switch (condition.op) {
    case "iface":
      return new Set(condition.names);
    case "and": {
      let result: Set<string> | undefined;
      for (const operand of condition.operands) {
        const next = interfacesWhere(operand);
        if (next === "any") continue;
        const kept: string[] = result === undefined ? [...next] : [...result].filter((name) => next.has(name));
        result = new Set(kept);
      }
      return result ?? "any";
    }
    case "or": {
      const union = new Set<string>();
      for (const operand of condition.operands) {
        const next = interfacesWhere(operand);
        if (next === "any") return "any";
        for (const n of next) union.add(n);
      }
      return union;
    }
    default:
      // `not iface wifi` holds on interfaces the policy does not name too: any.
      return "any";
  }
}

/** Why the connection table must follow subflows, or undefined. */
function subflowsFollowed(model: PolicyModel): string | undefined {
  if (model.endpoints.length > 0) return "endpoints follow subflows";
  if (model.limits.subflows !== undefined) return "limits subflows counts them";
  if (model.limits.addAddrAccepted !== undefined) return "limits add_addr_accepted counts the subflows to announced addresses";
  const actions = model.rules.flatMap((r) => r.actions);
  if (actions.some(needsSubflows)) return "an action works on subflows (destroy, set, backup or retry)";
  if (model.rules.some((r) => r.condition !== undefined && testsSubflows(r.condition))) return "a condition tests subflows";
  return undefined;
}

function announcementsFollowed(model: PolicyModel): string | undefined {
  if (model.endpoints.length > 0) return "endpoints answer announcements";
  if (model.limits.addAddrAccepted !== undefined) return "limits add_addr_accepted counts announced addresses";
  // A `removed` rule tests the address withdrawn, which only its `announced` said.
  if (model.rules.some((r) => ANNOUNCE_EVENTS.includes(r.event as KernelEventName))) return "a rule on announced or removed reads the announced addresses";
  if (model.rules.some((r) => r.actions.some((a) => a.op === "create" && a.to === "announced"))) return "an action goes to announced addresses";
  return undefined;
}

function needsSubflows(action: ActionModel): boolean {
  if (action.op === "destroy" || action.op === "set") return true;
  return action.op === "create" && (action.backup || action.retry !== undefined);
}

/** Tests whose answer comes from the table's subflows (a subflow event's own fields do not count: its rule keeps it). */
function testsSubflows(condition: ConditionModel): boolean {
  switch (condition.op) {
    case "and":
    case "or":
      return condition.operands.some(testsSubflows);
    case "not":
      return testsSubflows(condition.operand);
    case "subflows":
    case "metric":
    case "stale":
      return true;
    default:
      return false;
  }
}
