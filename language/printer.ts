// Syntax-tree nodes back to text, in the one canonical spelling `fmt` writes.
// Printing then parsing gives the same tree (modulo spans); layout and comments
// are the formatter's job, not this file's.
import type {
  Action,
  AddressLiteral,
  Condition,
  Name,
  Predicate,
  SchedulerDecl,
  Statement,
  Step,
  StringLiteral,
} from "./syntax-tree.js";

export function printCondition(c: Condition): string {
  switch (c.kind) {
    case "Or":
      return c.operands.map((o) => printOperand(o, "Or")).join(" or ");
    case "And":
      return c.operands.map((o) => printOperand(o, "And")).join(" and ");
    case "Not": {
      // A loop, not recursion: `not not … x` may be thousands deep.
      let prefix = "";
      let inner: Condition = c;
      while (inner.kind === "Not") {
        prefix += "not ";
        inner = inner.operand;
      }
      return prefix + (inner.kind === "And" || inner.kind === "Or" ? `(${printCondition(inner)})` : printCondition(inner));
    }
    default:
      return printPredicate(c);
  }
}

// Parentheses where the child binds looser, and also where the same operator nests:
// the parser flattens `a and b and c` into one node, so a nested And can only come
// from written parentheses, and keeping them keeps the tree.
function printOperand(operand: Condition, parent: "And" | "Or"): string {
  const needs = operand.kind === "Or" || (operand.kind === "And" && parent === "And");
  return needs ? `(${printCondition(operand)})` : printCondition(operand);
}

function printPredicate(p: Predicate): string {
  switch (p.kind) {
    case "Iface":
      return p.list || p.names.length !== 1 ? `iface in (${names(p.names)})` : `iface ${names(p.names)}`;
    case "AddressIn":
      return p.list || p.prefixes.length !== 1 ? `${p.side} in (${names(p.prefixes)})` : `${p.side} in ${names(p.prefixes)}`;
    case "Port":
      return p.explicitOp ? `${p.side} port ${p.op} ${p.value.text}` : `${p.side} port ${p.value.text}`;
    case "Family":
      return `family ${p.value.text}`;
    case "Side":
      return `side ${p.value.text}`;
    case "Flag":
      return p.name.text;
    case "Error":
      return `error ${p.value.text}`;
    case "Compare":
      return `${p.subject.text} ${p.op} ${p.value.text}`;
    case "Process":
      return `${p.test} ${p.value.kind === "String" ? printString(p.value) : p.value.text}`;
  }
}

function names(items: readonly (Name | AddressLiteral)[]): string {
  return items.map((n) => n.text).join(", ");
}

/** A string literal; the tree keeps the unescaped value, so `"` and `\` are escaped again. */
function printString(s: StringLiteral): string {
  return `"${s.value.replace(/["\\]/g, "\\$&")}"`;
}

export function printAction(a: Action): string {
  const words: string[] = [];
  switch (a.kind) {
    case "Create":
      // Options may be written in any order; this is the order the docs use.
      words.push("create");
      if (a.via) words.push("via", a.via.text);
      if (a.from) words.push("from", a.from.text);
      if (a.to) words.push("to", a.to.text);
      if (a.port) words.push("port", a.port.text);
      if (a.backup) words.push("backup");
      break;
    case "Destroy":
      words.push("destroy");
      if (a.via) words.push("via", a.via.text);
      break;
    case "Announce":
      words.push("announce", a.target.text);
      if (a.port) words.push("port", a.port.text);
      break;
    case "Withdraw":
      words.push("withdraw", a.target.text);
      break;
    case "Set":
      words.push("set", a.iface.text, a.value);
      break;
    case "Log":
      words.push("log", printString(a.message));
      break;
  }
  // `after` and `retry` may come in either order; `after` first reads as it happens.
  if (a.after) words.push("after", a.after.text);
  if (a.retry) words.push("retry", a.retry.text);
  return words.join(" ");
}

export function printStep(s: Step): string {
  // `use any` takes no filter or order in the grammar, and redundant / round_robin
  // take no order: a tree holding one anyway has nothing to print it with.
  if (s.mode === "use_any") return "use any";
  const words: string[] = [s.mode];
  if (s.where) words.push("where", printCondition(s.where));
  if (s.mode === "use" && s.order) words.push("by", s.order.direction, s.order.metric.text);
  return words.join(" ");
}

/** `scheduler NAME [for CONDITION] {`: the line that opens a scheduler block. */
export function printSchedulerOpening(s: SchedulerDecl): string {
  return s.selector ? `scheduler ${s.name.text} for ${printCondition(s.selector)} {` : `scheduler ${s.name.text} {`;
}

/** The lines of a statement: one, or a scheduler block with its steps indented two spaces. */
export function printStatement(s: Statement): string[] {
  switch (s.kind) {
    case "Interface":
      return [s.patterns.length > 0 ? `interface ${s.name.text} = ${s.patterns.map(printString).join(", ")}` : `interface ${s.name.text} =`];
    case "Limits":
      return [["limits", ...s.entries.map((e) => `${e.name.text} ${e.value.text}`)].join(" ")];
    case "Endpoint": {
      const words = ["endpoint", s.target.text, ...s.flags.map((f) => f.text)];
      if (s.port) words.push("port", s.port.text);
      return [words.join(" ")];
    }
    case "Rule": {
      const words = ["on", s.event.text];
      if (s.iface) words.push(s.iface.text);
      if (s.condition) words.push("if", printCondition(s.condition));
      words.push("then");
      if (s.actions.length > 0) words.push(s.actions.map(printAction).join(", "));
      return [words.join(" ")];
    }
    case "Mptcp":
      return [`mptcp for ${printCondition(s.condition)}`];
    case "Isolate":
      return [`isolate ${s.interfaces.map((n) => n.text).join(", ")}`];
    case "Scheduler":
      return [printSchedulerOpening(s), ...s.steps.map((step) => `  ${printStep(step)}`), "}"];
  }
}
