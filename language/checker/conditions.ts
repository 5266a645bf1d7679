// Checking one condition where it stands: each predicate must be something the place
// can test (an event's facts, a scheduler's connection or subflow), with valid values.
import { error } from "../diagnostics.js";
import { didYouMean, orElse } from "../suggest.js";
import type { Condition, Predicate } from "../syntax-tree.js";
import { forEachPredicate } from "../visitor.js";
import { ERRNO_NAMES, EVENTS, FAMILIES, METRIC_BY_NAME, METRICS, SIDES, SUBFLOW_COUNT_MAX, type ConditionKey } from "../vocabulary.js";
import type { CheckContext } from "./context.js";
import { resolveInterface } from "./references.js";
import { checkProcessValue } from "./process-values.js";
import { checkAddress, checkInteger, checkPort, checkQuantity } from "./values.js";

export interface ConditionPlace {
  readonly allowed: ReadonlySet<ConditionKey>;
  /** Where the condition stands, for messages: "on 'closed'", "in a scheduler's 'for'". */
  readonly where: string;
  /** The code for a predicate the place cannot test. */
  readonly code: "E201" | "E502" | "E700";
  /** What can be tested here, when the event's list is not the answer. */
  readonly hint?: string;
}

const KEY_WORDS: Record<ConditionKey, string> = {
  iface: "iface",
  local: "local in",
  remote: "remote in",
  local_port: "local port",
  remote_port: "remote port",
  family: "family",
  side: "side",
  backup: "backup",
  active: "active",
  stale: "stale",
  error: "error",
  subflows: "subflows",
  metric: "subflow metrics",
  program: "program",
  unit: "unit",
  cgroup: "cgroup",
  user: "user",
};

/** Tests of the process creating a socket: known then, and nowhere else. */
const PROCESS_KEYS: ReadonlySet<ConditionKey> = new Set(["program", "unit", "cgroup", "user"]);

/** Why a test cannot select programs in `mptcp for`: what socket() does not know yet. */
const NOT_AT_SOCKET_CREATION: Partial<Record<ConditionKey, string>> = {
  iface: "a socket has no interface when it is created: the route is chosen at connect() or bind()",
  local: "a socket has no address when it is created: bind() or connect() gives it one later",
  remote: "a socket has no peer when it is created: connect() names it later",
  local_port: "a socket has no port when it is created: bind() or connect() gives it one later",
  remote_port: "a socket has no peer when it is created: connect() names it later",
  side: "a socket is neither client nor server when it is created: connect() or listen() decides later",
};

export function checkCondition(context: CheckContext, condition: Condition, place: ConditionPlace): void {
  forEachPredicate(condition, (predicate) => checkPredicate(context, predicate, place));
}

function checkPredicate(context: CheckContext, predicate: Predicate, place: ConditionPlace): void {
  const report = context.report;
  const key = keyOf(predicate);
  if (key === undefined) {
    const word = predicate.kind === "Flag" || predicate.kind === "Compare" ? (predicate.kind === "Flag" ? predicate.name : predicate.subject) : undefined;
    if (word) {
      const metric = METRIC_BY_NAME.get(word.text);
      const message = metric ? `'${word.text}' is a metric: compare it, e.g. '${word.text} < 100${metric.dimension === "time" ? "ms" : ""}'` : `unknown condition '${word.text}'`;
      report(error("E204", word.span, message, { hints: metric ? [] : didYouMean(word.text, CONDITION_WORDS) }));
    }
    return;
  }
  if (!place.allowed.has(key)) {
    if (place.code === "E700") {
      const why = NOT_AT_SOCKET_CREATION[key] ?? "that is a fact of a connection's subflows, which exist only after the socket connects";
      report(
        error("E700", predicate.span, `'${KEY_WORDS[key]}' cannot be tested in 'mptcp for', which runs when a socket is created: ${why}`, {
          hints: ["'mptcp for' can test program, unit, cgroup, user and family; test the rest in a rule or a scheduler"],
        }),
      );
    } else if (PROCESS_KEYS.has(key)) {
      report(
        error("E704", predicate.span, `'${KEY_WORDS[key]}' can be tested only in 'mptcp for', not ${place.where}`, {
          hints: [`the process is known when a socket is created: select it with 'mptcp for ${KEY_WORDS[key]} ...'`],
        }),
      );
    } else if (key === "metric" && place.code === "E201") {
      report(error("E205", predicate.span, `subflow metrics can only be tested in a scheduler, not ${place.where}`, { hints: ["move this test into a scheduler step's 'where'"] }));
    } else {
      const events = EVENTS.filter((e) => e.conditions.includes(key)).map((e) => e.name);
      const hint = place.hint ?? (events.length > 0 ? `'${KEY_WORDS[key]}' is available on: ${events.join(", ")}` : `'${KEY_WORDS[key]}' belongs in a scheduler`);
      report(error(place.code, predicate.span, `'${KEY_WORDS[key]}' cannot be tested ${place.where}`, { hints: [hint] }));
    }
    return;
  }
  checkValues(context, predicate);
}

function keyOf(predicate: Predicate): ConditionKey | undefined {
  switch (predicate.kind) {
    case "Iface":
      return "iface";
    case "AddressIn":
      return predicate.side;
    case "Port":
      return predicate.side === "local" ? "local_port" : "remote_port";
    case "Family":
      return "family";
    case "Side":
      return "side";
    case "Error":
      return "error";
    case "Flag":
      if (predicate.name.text === "backup" || predicate.name.text === "active") return "backup";
      return predicate.name.text === "stale" ? "stale" : undefined;
    case "Compare":
      if (predicate.subject.text === "subflows") return "subflows";
      return METRIC_BY_NAME.has(predicate.subject.text) ? "metric" : undefined;
    case "Process":
      return predicate.test;
  }
}

function checkValues(context: CheckContext, predicate: Predicate): void {
  const report = context.report;
  switch (predicate.kind) {
    case "Iface":
      for (const name of predicate.names) resolveInterface(context, name);
      return;
    case "AddressIn":
      for (const prefix of predicate.prefixes) checkAddress(prefix, true, report);
      return;
    case "Port":
      checkPort(predicate.value, report);
      return;
    case "Family":
    case "Side": {
      const allowed: readonly string[] = predicate.kind === "Family" ? FAMILIES : SIDES;
      if (!allowed.includes(predicate.value.text)) {
        report(error("E210", predicate.value.span, `'${predicate.value.text}' is not a ${predicate.kind === "Family" ? "family" : "side"}: expected ${allowed.join(" or ")}`, { hints: didYouMean(predicate.value.text, allowed) }));
      }
      return;
    }
    case "Error":
      if (predicate.value.kind === "Name") {
        if (!ERRNO_NAMES.has(predicate.value.text)) {
          report(error("E203", predicate.value.span, `unknown error '${predicate.value.text}'`, { hints: orElse(didYouMean(predicate.value.text, ERRNO_NAMES.keys()), "use a name such as timeout, reset, refused, unreachable, or an errno number") }));
        }
      } else checkInteger(predicate.value, "an errno number", 1, 4095, report);
      return;
    case "Compare":
      if (predicate.subject.text === "subflows") checkInteger(predicate.value, "a subflow count", 0, SUBFLOW_COUNT_MAX, report);
      else checkQuantity(predicate.value, METRIC_BY_NAME.get(predicate.subject.text)?.dimension ?? "count", `'${predicate.subject.text}'`, report);
      return;
    case "Flag":
      return;
    case "Process":
      checkProcessValue(predicate, report);
      return;
  }
}

const CONDITION_WORDS = ["program", "unit", "cgroup", "user", "iface", "local", "remote", "family", "side", "backup", "active", "stale", "error", "subflows", ...METRICS.map((m) => m.name)];
