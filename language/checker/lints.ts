// Pass: warnings about rules that are valid but likely wrong: a rule that can
// re-trigger itself without pause (a subflow storm), a rule that can never fire
// because an earlier one for the same event always matches first, and interfaces
// nothing uses.
import { warning } from "../diagnostics.js";
import type { Action, Condition, Rule } from "../syntax-tree.js";
import { IDENTIFIER_PATTERN } from "../vocabulary.js";
import type { CheckContext } from "./context.js";

export function lintRules(context: CheckContext): void {
  const rules = context.files.flatMap((f) => f.statements.filter((s): s is Rule => s.kind === "Rule"));
  for (const rule of rules) lintStorm(context, rule);
  lintShadowing(context, rules);
  lintUnused(context);
}

const CREATE_CAUSES: readonly string[] = ["subflow_established", "subflow_closed"];
const SET_CAUSES: readonly string[] = ["subflow_priority"];

/** Which events an action makes the kernel send back at once. */
function eventsCausedBy(action: Action): readonly string[] {
  if (action.kind === "Create") return CREATE_CAUSES;
  if (action.kind === "Set") return SET_CAUSES;
  return [];
}

function lintStorm(context: CheckContext, rule: Rule): void {
  for (const action of rule.actions) {
    if (rule.event.text === "subflow_stale") {
      lintStaleLoop(context, rule, action);
      continue;
    }
    if ((action.after && action.after.value > 0) || !eventsCausedBy(action).includes(rule.event.text)) continue;
    // A `create ... retry N` owns the failures of the subflow it opens: they go to its
    // retries (paced, at most N), never back to the rules.
    if (rule.event.text === "subflow_closed" && action.kind === "Create" && action.retry) continue;
    // A guard on the count only stops a loop on subflow_established: a subflow that
    // fails to open closes again without ever raising the count.
    if (rule.event.text === "subflow_established" && rule.condition && hasSubflowGuard(rule.condition)) continue;
    if (rule.condition && evaluate(rule.condition, produced(action)) === false) continue;
    context.report(
      warning("W600", action.span, `this '${action.kind.toLowerCase()}' can trigger '${rule.event.text}' again, and this rule again: a subflow storm`, {
        hints: [rule.event.text === "subflow_established" ? "add a delay ('after 1s') or a guard ('if subflows < 4 and ...')" : "add a delay ('after 1s'): a subflow that fails to open closes at once"],
      }),
    );
  }
}

/**
 * `on subflow_stale ... then create`: the new subflow can go stale in turn, but only
 * once it is established, has carried data and has stalled for the daemon's bound, so
 * never at once, and a delay changes nothing. What is true is that the stale subflow
 * stays open: while the path stays bad, every round adds one more subflow, up to the
 * limit. Not warned when a `subflows` guard bounds it, when the rule also closes the
 * stale subflow (`destroy`), or when the new subflow cannot match the condition.
 */
function lintStaleLoop(context: CheckContext, rule: Rule, action: Action): void {
  if (action.kind !== "Create") return;
  if (rule.condition && hasSubflowGuard(rule.condition)) return;
  if (rule.actions.some((a) => a.kind === "Destroy" && a.via === undefined)) return;
  if (rule.condition && evaluate(rule.condition, produced(action)) === false) return;
  context.report(
    warning("W600", action.span, "the subflow this 'create' opens can go stale too and fire this rule again: while the path stays bad, each round adds a subflow", {
      hints: ["bound it ('if subflows < 3 and ...'), close the stale one first ('destroy, create via ...'), or create via an interface the condition excludes"],
    }),
  );
}

/** The subflow an action produces, or whose flag it sets: its interface and backup flag, where known. */
function produced(action: Action): Facts {
  return action.kind === "Create"
    ? { iface: action.via?.text, backup: action.backup }
    : action.kind === "Set"
      ? { iface: action.iface.text, backup: action.value === "backup" }
      : {};
}

/** A `subflows <`/`<=`/`==` test that must hold for the whole condition to hold. */
function hasSubflowGuard(condition: Condition): boolean {
  if (condition.kind === "And") return condition.operands.some(hasSubflowGuard);
  if (condition.kind === "Or") return condition.operands.every(hasSubflowGuard);
  return condition.kind === "Compare" && condition.subject.text === "subflows" && ["<", "<=", "=="].includes(condition.op);
}

interface Facts {
  readonly iface?: string | undefined;
  readonly backup?: boolean | undefined;
}

/** Three-valued evaluation: true, false, or undefined when the facts do not decide it. */
function evaluate(condition: Condition, facts: Facts): boolean | undefined {
  switch (condition.kind) {
    case "And": {
      const values = condition.operands.map((c) => evaluate(c, facts));
      return values.includes(false) ? false : values.every((v) => v === true) ? true : undefined;
    }
    case "Or": {
      const values = condition.operands.map((c) => evaluate(c, facts));
      return values.includes(true) ? true : values.every((v) => v === false) ? false : undefined;
    }
    case "Not": {
      const value = evaluate(condition.operand, facts);
      return value === undefined ? undefined : !value;
    }
    case "Iface":
      return facts.iface === undefined ? undefined : condition.names.some((n) => n.text === facts.iface);
    case "Flag":
      if (facts.backup === undefined) return undefined;
      if (condition.name.text === "backup") return facts.backup;
      if (condition.name.text === "active") return !facts.backup;
      return undefined;
    default:
      return undefined;
  }
}

/**
 * Rules are tried in order and the first match fires, so a later rule can be dead:
 * an earlier rule covers it when it fires on every trigger this one does (no
 * interface named, or the same one) under the same or no condition. Earlier rules
 * are indexed by event, interface ("*" for none) and condition, so this stays linear.
 */
function lintShadowing(context: CheckContext, rules: Rule[]): void {
  const first = new Map<string, Map<string, Map<string, Rule>>>();
  const NONE = conditionKey(undefined);
  for (const rule of rules) {
    const key = conditionKey(rule.condition);
    let byInterface = first.get(rule.event.text);
    if (!byInterface) first.set(rule.event.text, (byInterface = new Map()));
    const any = byInterface.get("*");
    const named = rule.iface === undefined ? undefined : byInterface.get(rule.iface.text);
    const shadow = earliest(earliest(earliest(any?.get(key), any?.get(NONE)), named?.get(key)), named?.get(NONE));
    if (shadow) {
      context.report(
        warning("W601", rule.span, `this rule never fires: an earlier '${rule.event.text}' rule matches first whenever it would`, {
          related: [{ span: shadow.span, message: "the earlier rule" }],
          hints: ["merge the actions into the earlier rule, or make the conditions differ"],
        }),
      );
    }
    const own = rule.iface?.text ?? "*";
    let byCondition = byInterface.get(own);
    if (!byCondition) byInterface.set(own, (byCondition = new Map()));
    if (!byCondition.has(key)) byCondition.set(key, rule);
  }
}

/** The earlier of two candidate rules: the first in its file (rules of other files do not compete). */
function earliest(a: Rule | undefined, b: Rule | undefined): Rule | undefined {
  if (a === undefined) return b;
  return b !== undefined && b.span.start < a.span.start && b.span.file === a.span.file ? b : a;
}

/** The condition as written, white space and comments aside: equal keys, identical conditions. */
function conditionKey(condition: Condition | undefined): string {
  if (!condition) return "";
  const text = condition.span.file.text.slice(condition.span.start, condition.span.end);
  // Most conditions sit on one line with single spaces: nothing to normalise.
  return /#|\s\s|[\t\r\n]/.test(text) ? text.replace(/#[^\n]*/g, "").replace(/\s+/g, " ") : text;
}

function lintUnused(context: CheckContext): void {
  for (const [name, declaration] of context.symbols.interfaces) {
    if (!context.symbols.usedInterfaces.has(name) && IDENTIFIER_PATTERN.test(name)) {
      context.report(warning("W602", declaration.name.span, `interface '${name}' is declared but never used`, { hints: ["use it in an endpoint, rule or scheduler, or remove it"] }));
    }
  }
}
