// The simulator: a timeline of events run through the real decision core (the same
// ConnectionTable and decide() the daemon uses, with the retries of `create ... retry N`
// as `simulate --events` shows them), and a connection's subflows run through the
// reference scheduler evaluator. Pure functions of the model.
import { ConnectionTable } from "../compiler/connections.js";
import type { PlannedAction } from "../compiler/decide.js";
import { readEvent, type PolicyEvent } from "../compiler/events.js";
import { describeCondition } from "../compiler/explain.js";
import { interfaceMatcher } from "../compiler/interfaces.js";
import { describeMissingFacts, describeUnmatchableRule, findMissingFacts } from "../compiler/missing-facts.js";
import type { PolicyModel, SourceRef, StepModel } from "../compiler/model.js";
import { RetryTracker } from "../compiler/retries.js";
import { decideSchedule, runScheduler, selectScheduler } from "../compiler/scheduler/evaluate.js";
import { parseSnapshot, SnapshotError } from "../compiler/scheduler/snapshot.js";
import { decideWithRetries, describeAttempt, describeRetry, type RetryNote } from "../compiler/simulate-events.js";
import { applyZones, zonesFor } from "../compiler/zones.js";
import { REDUNDANT_WITH_HOOK } from "../language/vocabulary.js";
import type { SourceLine } from "./source-lines.js";

export interface SimulatedAction {
  /** The Netlink command (or `log`, or `retry` for a series of tries that gave up). */
  readonly command: string;
  readonly summary: string;
  readonly afterMs: number;
  readonly at: SourceRef;
}

export interface SimulatedStep {
  /** Why the event could not be read, if it could not. */
  readonly error?: string;
  /** The rule that fired, or the one whose `create ... retry N` this event's failure is tried again for. */
  readonly rule?: { readonly index: number; readonly at: SourceRef };
  readonly actions: readonly SimulatedAction[];
  /** The event was the failure of a retried create's subflow (compiler/retries.ts). */
  readonly retry?: RetryNote;
  /** The connection after the event, if the event is about one. */
  readonly connection?: { readonly token: string; readonly subflows: number };
}

export interface ScheduledBy {
  readonly name: string;
  readonly at: SourceRef;
  /** The `for` in words; undefined for the default scheduler. */
  readonly selector?: string;
  readonly selected: boolean;
  readonly step: number | null;
  /** Each step as written in the source, and in words. */
  readonly steps: readonly { readonly source: string; readonly words: string }[];
  readonly scheduled: readonly number[];
}

export interface ScheduleResult {
  readonly error?: string;
  /** Index of the scheduler that serves the connection; null: the kernel's default. */
  readonly served: number | null;
  readonly schedulers: readonly ScheduledBy[];
}

/** Rules the timeline's events cannot match because they lack a fact (compiler/missing-facts.ts). */
export interface MissingFactsNote {
  /** "The events lack ifname, so 1 rule cannot match them". */
  readonly summary: string;
  readonly lacking: readonly string[];
  readonly rules: readonly { readonly at: SourceRef; readonly source: string; readonly detail: string }[];
}

export interface SimulationResult {
  readonly steps: readonly SimulatedStep[];
  readonly missing?: MissingFactsNote;
  readonly schedule: ScheduleResult | undefined;
}

export function simulateEvents(model: PolicyModel, events: readonly unknown[]): SimulatedStep[] {
  const table = new ConnectionTable();
  const match = interfaceMatcher(model);
  const retries = new RetryTracker(match);
  const zones = zonesFor(model, match);
  return events.map((value) => {
    const event = readEvent(value);
    if (typeof event === "string") return { error: event, actions: [] };
    const connection = table.apply(event);
    const decision = decideWithRetries(model, event, connection, table.connections, match, retries);
    const after = event.event === "closed" ? undefined : event.token !== undefined ? table.connections.get(event.token) : undefined;
    const gaveUp = decision.retry?.exhausted && decision.rule ? [{ command: "retry", summary: describeRetry(decision.retry), afterMs: 0, at: decision.rule.at }] : [];
    // Zones (`isolate`): a subflow across its connection's zone is closed, and no rule acts on it.
    const zoned = applyZones(zones, event, connection, decision.actions);
    const zoneAt = zones.at(zones.ofIfname(connection?.ifname)) ?? zones.at(zones.ofIfname(event.ifname));
    if (zoned.closes !== undefined && zoneAt) {
      return { actions: [{ command: "SUBFLOW_DESTROY", summary: `across a zone: ${zoned.closes}`, afterMs: 0, at: zoneAt }], ...(after ? { connection: { token: after.token, subflows: after.subflows.length } } : {}) };
    }
    const refused = zoned.refused.map((r) => ({ ...describeAction(r.action), command: "refused", summary: `refused: ${describeAction(r.action).summary}: ${r.reason}` }));
    return {
      ...(decision.rule ? { rule: decision.rule } : {}),
      actions: [...zoned.kept.map(describeAction), ...refused, ...gaveUp],
      ...(decision.retry ? { retry: decision.retry } : {}),
      ...(after ? { connection: { token: after.token, subflows: after.subflows.length } } : {}),
    };
  });
}

function target(a: PlannedAction): string {
  if (a.scope === "every_connection") return "on every open connection";
  return a.token !== undefined ? `on connection ${a.token}` : "on the event's connection";
}

export function describeAction(a: PlannedAction): SimulatedAction {
  const base = { afterMs: a.afterUs / 1000, at: a.at };
  switch (a.op) {
    case "create": {
      const from = a.via !== undefined ? `from an address of ${a.via}` : a.from !== undefined ? `from ${a.from}` : "from the connection's local address";
      const to = a.to !== undefined ? `to ${a.to}${a.port !== undefined ? ` port ${a.port}` : ""}` : "to the peer";
      return { ...base, command: "SUBFLOW_CREATE", summary: `${target(a)}: open a ${a.backup ? "backup " : ""}subflow ${from} ${to}${describeAttempt(a)}` };
    }
    case "destroy": {
      const which =
        a.via !== undefined
          ? `the subflows on ${a.via}`
          : `the subflow ${a.subflow?.saddr ?? "?"}:${a.subflow?.sport ?? "?"} → ${a.subflow?.daddr ?? "?"}:${a.subflow?.dport ?? "?"}`;
      return { ...base, command: "SUBFLOW_DESTROY", summary: `${target(a)}: close ${which}` };
    }
    case "announce":
      return {
        ...base,
        command: "ANNOUNCE",
        summary: `${target(a)}: announce ${a.iface !== undefined ? `the addresses of ${a.iface}` : a.address}${a.port !== undefined ? ` with port ${a.port}` : ""}`,
      };
    case "withdraw":
      return { ...base, command: "REMOVE", summary: `${target(a)}: withdraw ${a.iface !== undefined ? `the addresses of ${a.iface}` : a.address}` };
    case "set":
      return { ...base, command: "SET_FLAGS", summary: `${target(a)}: make the subflows on ${a.iface} ${a.backup ? "backups" : "active"}` };
    case "log":
      return { ...base, command: "log", summary: `"${a.message}"` };
  }
}

export function describeStep(step: StepModel): string {
  const where = step.where ? ` where ${describeCondition(step.where)}` : "";
  switch (step.mode) {
    case "use_any":
      return "use any usable subflow";
    case "use": {
      const order = step.order ?? { direction: "lowest", metric: "rtt" };
      return `use one subflow${where}, the ${order.direction} ${order.metric}`;
    }
    case "redundant":
      return `schedule every subflow${where} (with the BPF scheduler hook, ${REDUNDANT_WITH_HOOK})`;
    case "round_robin":
      return `take the subflows${where} in turn`;
  }
}

/** Which scheduler serves the connection and what each scheduler would pick. */
export function simulateSchedule(model: PolicyModel, snapshotJson: unknown, sourceLine: SourceLine = () => undefined): ScheduleResult {
  let snapshot;
  try {
    snapshot = parseSnapshot(snapshotJson);
  } catch (cause) {
    if (cause instanceof SnapshotError) return { error: cause.message, served: null, schedulers: [] };
    throw cause;
  }
  const match = interfaceMatcher(model);
  const served = selectScheduler(model, snapshot) ?? null;
  const decision = decideSchedule(model, snapshot, match);
  const schedulers = model.schedulers.map((s, i): ScheduledBy => {
    const own = i === served ? decision : runScheduler(s, snapshot, match);
    return {
      name: s.name,
      at: s.at,
      ...(s.selector ? { selector: describeCondition(s.selector) } : {}),
      selected: i === served,
      step: own.step,
      steps: s.steps.map((step) => ({ source: sourceLine(step.at) ?? step.mode, words: describeStep(step) })),
      scheduled: own.scheduled,
    };
  });
  return { served, schedulers };
}

/** Said once for the whole timeline; undefined when its events carry what the rules test. */
export function missingFactsNote(model: PolicyModel, events: readonly unknown[], sourceLine: SourceLine = () => undefined): MissingFactsNote | undefined {
  const readable = events.map(readEvent).filter((e): e is PolicyEvent => typeof e !== "string");
  const missing = findMissingFacts(model, readable);
  if (!missing) return undefined;
  const summary = describeMissingFacts(missing);
  return {
    summary: summary.charAt(0).toUpperCase() + summary.slice(1),
    lacking: missing.lacking,
    rules: missing.rules.map((r) => ({ at: r.at, source: sourceLine(r.at) ?? `on ${r.event}`, detail: describeUnmatchableRule(r) })),
  };
}

export function simulate(model: PolicyModel, events: readonly unknown[], snapshot: unknown, sourceLine?: SourceLine): SimulationResult {
  const missing = missingFactsNote(model, events, sourceLine);
  return {
    steps: simulateEvents(model, events),
    ...(missing ? { missing } : {}),
    schedule: snapshot === undefined ? undefined : simulateSchedule(model, snapshot, sourceLine),
  };
}
