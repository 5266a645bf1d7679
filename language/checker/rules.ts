// Pass: path-manager rules. The event must exist, its condition may only test what
// the event carries, and each action must make sense on that event.
import { error, type Diagnostic } from "../diagnostics.js";
import { didYouMean, orElse } from "../suggest.js";
import type { Action, AddressLiteral, Name, Rule } from "../syntax-tree.js";
import { EVENT_BY_NAME, EVENTS, RETRY_MAX, type EventInfo } from "../vocabulary.js";
import { checkCondition, type ConditionPlace } from "./conditions.js";
import type { CheckContext } from "./context.js";
import { resolveInterface } from "./references.js";
import { baseValue, checkAddress, checkInteger, checkPort, checkQuantity, type ParsedAddress } from "./values.js";

/** `after` delays above an hour are almost surely a unit mistake. */
const MAX_DELAY_US = 3_600_000_000;
const MAX_LOG_LENGTH = 512;
const ANY_EVENT_CONDITIONS = [...new Set(EVENTS.flatMap((e) => e.conditions))];

export function checkRules(context: CheckContext): void {
  for (const file of context.files) {
    for (const statement of file.statements) if (statement.kind === "Rule") checkRule(context, statement);
  }
}

function checkRule(context: CheckContext, rule: Rule): void {
  const event = EVENT_BY_NAME.get(rule.event.text);
  if (!event) {
    context.report(
      error("E200", rule.event.span, `unknown event '${rule.event.text}'`, {
        hints: orElse(didYouMean(rule.event.text, EVENTS.map((e) => e.name)), `events: ${EVENTS.map((e) => e.name).join(" ")}`),
      }),
    );
  }
  if (rule.iface) {
    if (event && !event.takesInterface) {
      context.symbols.usedInterfaces.add(rule.iface.text);
      context.report(
        error("E202", rule.iface.span, `'${event.name}' takes no interface name`, {
          hints: [`write 'on ${event.name} if iface ${rule.iface.text} then ...'`],
        }),
      );
    } else resolveInterface(context, rule.iface);
  }
  if (rule.condition) {
    // An unknown event still gets its condition's names and values checked.
    const place = event ? conditionPlace(event) : { allowed: new Set(ANY_EVENT_CONDITIONS), where: `on '${rule.event.text}'`, code: "E201" as const };
    checkCondition(context, rule.condition, place);
  }
  for (const action of rule.actions) checkAction(context, action, event);
}

function checkAction(context: CheckContext, action: Action, event: EventInfo | undefined): void {
  const report = context.report;
  if (action.after) {
    if (checkQuantity(action.after, "time", "a delay", report) && baseValue(action.after) > MAX_DELAY_US) {
      report(error("E302", action.after.span, "a delay must be at most 1 hour"));
    }
  }
  if (action.retry) {
    // Only a subflow that fails to open can be tried again.
    if (action.kind !== "Create") {
      report(
        error("E212", action.retry.span, `'retry' belongs to 'create': a '${action.kind.toLowerCase()}' is not tried again`, {
          hints: ["remove 'retry', or put it on a 'create' (create via IFACE retry 3)"],
        }),
      );
    } else checkInteger(action.retry, "a retry count", 1, RETRY_MAX, report);
  }
  if (event && action.kind !== "Log" && !eventCanAct(event)) {
    report(
      error("E207", action.span, `'${action.kind.toLowerCase()}' needs a live connection, which '${event.name}' does not have`, {
        hints: ["only 'log' can follow this event"],
      }),
    );
    return;
  }
  switch (action.kind) {
    case "Create":
      checkCreate(context, action, event);
      return;
    case "Destroy":
      if (action.via) resolveInterface(context, action.via);
      else if (event && !eventHasSubflow(event)) {
        report(error("E208", action.span, `'destroy' without 'via' closes the event's subflow, and '${event.name}' has none`, { hints: ["name the interface: destroy via IFACE"] }));
      }
      return;
    case "Announce":
    case "Withdraw":
      checkTarget(context, action.target);
      if (action.kind === "Announce" && action.port) checkPort(action.port, report);
      return;
    case "Set":
      resolveInterface(context, action.iface);
      return;
    case "Log":
      checkLogText(action.message.value, action.message.span, report);
      return;
  }
}

function checkCreate(context: CheckContext, action: Extract<Action, { kind: "Create" }>, event: EventInfo | undefined): void {
  const report = context.report;
  if (action.via) resolveInterface(context, action.via);
  const from = action.from && checkAddress(action.from, false, report);
  if (action.via && action.from) {
    report(error("E209", action.from.span, "'via' and 'from' both say where the subflow leaves from", { hints: ["keep one of them"] }));
  }
  let to: ParsedAddress | undefined;
  if (action.to?.kind === "Address") to = checkAddress(action.to, false, report);
  else if (action.to) checkToWord(context, action.to, event);
  if (from && to && from.family !== to.family) {
    report(error("E305", (action.to as AddressLiteral).span, `a subflow from an ${from.family} address cannot go to an ${to.family} address`));
  }
  if (action.port) checkPort(action.port, report);
}

function checkToWord(context: CheckContext, to: Name, event: EventInfo | undefined): void {
  if (to.text === "remote") return;
  if (to.text !== "announced") {
    context.report(error("E210", to.span, `'to ${to.text}': expected an address, 'announced' or 'remote'`, { hints: didYouMean(to.text, ["announced", "remote"]) }));
  } else if (event && event.name !== "announced") {
    context.report(error("E206", to.span, "'to announced' needs an announced address: it only works in 'on announced' rules", { hints: ["use 'to remote' or an address"] }));
  }
}

function checkTarget(context: CheckContext, target: Name | AddressLiteral): void {
  if (target.kind === "Name") resolveInterface(context, target);
  else checkAddress(target, false, context.report);
}

function checkLogText(text: string, at: Diagnostic["span"], report: (d: Diagnostic) => void): void {
  if (/[\x00-\x1f\x7f]/.test(text)) report(error("E211", at, "log text cannot contain control characters"));
  else if (text.length > MAX_LOG_LENGTH) report(error("E211", at, `log text is limited to ${MAX_LOG_LENGTH} characters`));
}

/** Listener events and `closed` have no connection left to act on. */
function eventCanAct(event: EventInfo): boolean {
  return event.hasConnection ? event.name !== "closed" : event.subject === "interface" || event.subject === "address";
}

function eventHasSubflow(event: EventInfo): boolean {
  return event.subject === "subflow" || event.subject === "connection";
}

const conditionPlaces = new Map<EventInfo, ConditionPlace>();

/** What a rule's condition may test: one per event, not one per rule. */
function conditionPlace(event: EventInfo): ConditionPlace {
  let place = conditionPlaces.get(event);
  if (!place) {
    place = { allowed: new Set(event.conditions), where: `on '${event.name}'`, code: "E201" };
    conditionPlaces.set(event, place);
  }
  return place;
}
