// Checking one condition where it stands: each predicate must be something the place
// can test (an event's facts, a scheduler's connection or subflow), with valid values.
import { error } from "../diagnostics.js";
import { didYouMean, orElse } from "../suggest.js";
import type { Condition, Predicate } from "../syntax-tree.js";
import { forEachPredicate } from "../visitor.js";
import { ERRNO_NAMES, EVENTS, FAMILIES, METRIC_BY_NAME, METRICS, SIDES, SUBFLOW_COUNT_MAX, type ConditionKey } from "../vocabulary.js";
import type { CheckContext } from "./context.js";
import { resolveInterface } from "./references.js";
import { checkAddress, checkInteger, checkPort, checkQuantity } from "./values.js";

export interface ConditionPlace {
  readonly allowed: ReadonlySet<ConditionKey>;
  /** Where the condition stands, for messages: "on 'closed'", "in a scheduler's 'for'". */
  readonly where: string;
  /** The code for a predicate the place cannot test. */
  readonly code: "E201" | "E502";
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
    if (key === "metric" && place.code === "E201") {
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
  }
}

const CONDITION_WORDS = ["iface", "local", "remote", "family", "side", "backup", "active", "stale", "error", "subflows", ...METRICS.map((m) => m.name)];
