// The path-manager simulator: a recorded or made-up sequence of events (the JSON
// lines `monitor --format json` prints) run through the same decision core and
// connection state as the daemon, with the endpoint actions the daemon would add
// under the userspace path manager. Pure: the CLI and the playground share it.
import { ConnectionTable } from "./connections.js";
import { decide, type PlannedAction } from "./decide.js";
import { endpointActions } from "./endpoint-actions.js";
import type { PolicyEvent } from "./events.js";
import { interfaceMatcher } from "./interfaces.js";
import type { PolicyModel, SourceRef } from "./model.js";
import { planPolicy } from "./plan.js";

export interface EventOutcome {
  readonly event: PolicyEvent;
  /** The rule that fired, then the endpoint lines that act, in order. */
  readonly fired: readonly SourceRef[];
  readonly actions: readonly PlannedAction[];
}

/** Events without a decision (overflow, unknown) pass through with no actions. */
export function simulateEvents(model: PolicyModel, events: readonly PolicyEvent[]): EventOutcome[] {
  const table = new ConnectionTable();
  const matcher = interfaceMatcher(model);
  const userspace = planPolicy(model).strategy === "userspace";
  return events.map((event) => {
    if (event.event === "overflow" || event.event === "unknown") return { event, fired: [], actions: [] };
    const connection = table.apply(event);
    const decision = decide(model, event, connection, matcher);
    const fromEndpoints = userspace ? endpointActions(model, event, connection, matcher) : [];
    const fired = [...(decision.rule ? [decision.rule.at] : []), ...unique(fromEndpoints.map((a) => a.at))];
    return { event, fired, actions: [...decision.actions, ...fromEndpoints] };
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
      return `create a ${action.backup ? "backup " : ""}subflow${action.via !== undefined ? ` via ${action.via}` : action.from !== undefined ? ` from ${action.from}` : ""}${action.to !== undefined ? ` to ${action.to}` : ""}${action.port !== undefined ? ` port ${action.port}` : ""}${where}${delay}`;
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
