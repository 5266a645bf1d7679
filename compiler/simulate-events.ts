// The path-manager simulator: a recorded or made-up sequence of events (the JSON
// lines `monitor --format json` prints) run through the same decision core and
// connection state as the daemon, with the endpoint actions the daemon would add
// under the userspace path manager, and the retries of `create ... retry N`
// (compiler/retries.ts) with their nominal waits. Pure: the CLI and the playground share it.
import { ConnectionTable, type ConnectionState } from "./connections.js";
import { decide, type Decision, type PlannedAction } from "./decide.js";
import { endpointActions } from "./endpoint-actions.js";
import type { PolicyEvent } from "./events.js";
import { interfaceMatcher, type InterfaceMatcher } from "./interfaces.js";
import type { PolicyModel, SourceRef } from "./model.js";
import { planPolicy } from "./plan.js";
import { RetryTracker } from "./retries.js";
import { applyZones, zonesFor } from "./zones.js";

/** The event was the failure of a `create ... retry N`'s subflow: its series handled it, not the rules. */
export interface RetryNote {
  /** The try that follows (or, exhausted, the last one, which failed). */
  readonly attempt: number;
  readonly attempts: number;
  readonly exhausted: boolean;
}

export interface EventOutcome {
  readonly event: PolicyEvent;
  /** The rule that fired (or whose create is tried again), then the endpoint lines that act, in order. */
  readonly fired: readonly SourceRef[];
  readonly actions: readonly PlannedAction[];
  readonly retry?: RetryNote;
  /** Actions the zones (`isolate`) refuse for the event's connection, with why. */
  readonly refused?: readonly { readonly action: PlannedAction; readonly reason: string }[];
  /** The event's subflow crosses its connection's zone: `run` closes it, and no rule acts on it. */
  readonly zoneClose?: string;
}

/** One event's decision, retries included. */
export interface RetriedDecision extends Decision {
  readonly retry?: RetryNote;
}

/**
 * The rules' decision on one event, with retries: a `subflow_closed` that a live series
 * claims gives that series' next try (or nothing, exhausted) instead of the rules'
 * decision; a planned create with `retry N` starts a series on its connection (every
 * open one for an interface event); `subflow_established` ends a series, and `closed`
 * cancels the connection's. `connection` is the table's answer for the event (after it).
 */
export function decideWithRetries(
  model: PolicyModel,
  event: PolicyEvent,
  connection: ConnectionState | undefined,
  connections: ReadonlyMap<string, ConnectionState>,
  matcher: InterfaceMatcher,
  retries: RetryTracker,
): RetriedDecision {
  if (event.event === "closed" && event.token !== undefined) retries.closed(event.token);
  if (event.event === "subflow_established") retries.established(event);
  const step = event.event === "subflow_closed" ? retries.failed(event) : undefined;
  if (step) {
    return {
      rule: step.rule,
      actions: step.exhausted ? [] : [step.action],
      retry: { attempt: step.attempt, attempts: step.attempts, exhausted: step.exhausted },
    };
  }
  const decision = decide(model, event, connection, matcher);
  for (const action of decision.actions) {
    if (action.op !== "create" || (action.attempts ?? 1) <= 1) continue;
    const tokens = action.scope === "every_connection" ? [...connections.keys()] : action.token !== undefined ? [action.token] : [];
    for (const token of tokens) retries.started(token, action, action.attempts, { ...(decision.rule ? { rule: decision.rule } : {}), open: connections.get(token)?.subflows ?? [] });
  }
  return decision;
}

/** Events without a decision (overflow, unknown) pass through with no actions. */
export function simulateEvents(model: PolicyModel, events: readonly PolicyEvent[]): EventOutcome[] {
  const table = new ConnectionTable();
  const matcher = interfaceMatcher(model);
  const retries = new RetryTracker(matcher);
  const userspace = planPolicy(model).strategy === "userspace";
  const zones = zonesFor(model, matcher);
  return events.map((event) => {
    if (event.event === "overflow" || event.event === "unknown") return { event, fired: [], actions: [] };
    const connection = table.apply(event);
    const decision = decideWithRetries(model, event, connection, table.connections, matcher, retries);
    const fromEndpoints = userspace ? endpointActions(model, event, connection, matcher) : [];
    const zoned = applyZones(zones, event, connection, [...decision.actions, ...fromEndpoints]);
    if (zoned.closes !== undefined) return { event, fired: [], actions: [], zoneClose: zoned.closes };
    const acting = new Set([...zoned.kept, ...zoned.refused.map((r) => r.action)]);
    const fired = [...(decision.rule ? [decision.rule.at] : []), ...unique(fromEndpoints.filter((a) => acting.has(a)).map((a) => a.at))];
    return { event, fired, actions: zoned.kept, ...(decision.retry ? { retry: decision.retry } : {}), ...(zoned.refused.length > 0 ? { refused: zoned.refused } : {}) };
  });
}

function unique(refs: SourceRef[]): SourceRef[] {
  const seen = new Set<string>();
  return refs.filter((r) => {
    const key = `${r.file}:${r.line}`;
    return !seen.has(key) && seen.add(key);
  });
}

/** The JSON line for one outcome: positions as "file:line", delays in milliseconds. */
export function outcomeJson(outcome: EventOutcome): Record<string, unknown> {
  const { event } = outcome;
  return {
    event: event.event,
    ...(event.token !== undefined ? { token: event.token } : {}),
    rules: outcome.fired.map((r) => `${r.file}:${r.line}`),
    actions: outcome.actions.map(actionJson),
    ...(outcome.retry ? { retry: outcome.retry } : {}),
    ...(outcome.refused ? { refused: outcome.refused.map((r) => ({ ...actionJson(r.action), reason: r.reason })) } : {}),
    ...(outcome.zoneClose !== undefined ? { zone_close: outcome.zoneClose } : {}),
  };
}

export function actionJson(action: PlannedAction): Record<string, unknown> {
  const { at, afterUs, scope, token: _sameAsTheEvents, ...rest } = action;
  return { ...rest, scope, after_ms: afterUs / 1000, rule: `${at.file}:${at.line}` };
}

/** One line of words for an action, for the text format and the playground. */
export function describePlannedAction(action: PlannedAction): string {
  const delay = action.afterUs > 0 ? ` after ${action.afterUs / 1000}ms` : "";
  const where = action.scope === "every_connection" ? " on every connection" : "";
  switch (action.op) {
    case "create":
      return `create a ${action.backup ? "backup " : ""}subflow${action.via !== undefined ? ` via ${action.via}` : action.from !== undefined ? ` from ${action.from}` : ""}${action.to !== undefined ? ` to ${action.to}` : ""}${action.port !== undefined ? ` port ${action.port}` : ""}${where}${delay}${describeAttempt(action)}`;
    case "destroy":
      return `destroy ${action.via !== undefined ? `the subflows via ${action.via}` : `the subflow ${action.subflow?.saddr ?? "?"}:${action.subflow?.sport ?? "?"}`}${where}${delay}`;
    case "announce":
      return `announce ${action.iface ?? action.address}${action.port !== undefined ? ` port ${action.port}` : ""}${where}${delay}`;
    case "withdraw":
      return `withdraw ${action.iface ?? action.address}${where}${delay}`;
    case "set":
      return `set the subflows via ${action.iface} ${action.backup ? "backup" : "active"}${where}${delay}`;
    case "log":
      return `log "${action.message}"${delay}`;
  }
}

/** " (attempt 2 of 4)" for a create with `retry`, "" otherwise. */
export function describeAttempt(action: PlannedAction): string {
  return action.op === "create" && action.attempt !== undefined && action.attempts !== undefined ? ` (attempt ${action.attempt} of ${action.attempts})` : "";
}

/** What a retry series did with an event, in words. */
export function describeRetry(retry: RetryNote): string {
  return retry.exhausted
    ? `the subflow its create opened failed; that was attempt ${retry.attempt} of ${retry.attempts}: no more tries`
    : "the subflow its create opened failed: tried again";
}
