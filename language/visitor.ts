// Default traversal of the syntax tree: a pass names the node kinds it cares about
// and every other node is walked through. Traversal allocates nothing per node, so
// checking a policy of 10,000 rules costs no more garbage than its findings.
import type { Action, Condition, PolicyFile, Predicate, Statement, SyntaxNode } from "./syntax-tree.js";

type Visit = (child: SyntaxNode) => void;

function each(nodes: readonly SyntaxNode[], visit: Visit): void {
  for (const node of nodes) visit(node);
}

function maybe(node: SyntaxNode | undefined, visit: Visit): void {
  if (node !== undefined) visit(node);
}

/** An action's `after` and `retry`, in the order they were written. */
function suffixes(node: Action, visit: Visit): void {
  const { after, retry } = node;
  if (after && retry && retry.span.start < after.span.start) {
    visit(retry);
    visit(after);
    return;
  }
  maybe(after, visit);
  maybe(retry, visit);
}

/** Call `visit` on each direct child of a node, in source order. */
export function forEachChild(node: SyntaxNode, visit: Visit): void {
  switch (node.kind) {
    case "File":
      each(node.statements, visit);
      return;
    case "Interface":
      visit(node.name);
      each(node.patterns, visit);
      return;
    case "Limits":
      each(node.entries, visit);
      return;
    case "Limit":
      visit(node.name);
      visit(node.value);
      return;
    case "Endpoint":
      visit(node.target);
      each(node.flags, visit);
      maybe(node.port, visit);
      return;
    case "Rule":
      visit(node.event);
      maybe(node.iface, visit);
      maybe(node.condition, visit);
      each(node.actions, visit);
      return;
    case "Mptcp":
      visit(node.condition);
      return;
    case "Isolate":
      each(node.interfaces, visit);
      return;
    case "Scheduler":
      visit(node.name);
      maybe(node.selector, visit);
      each(node.steps, visit);
      return;
    case "Step":
      maybe(node.where, visit);
      maybe(node.order, visit);
      return;
    case "Ordering":
      visit(node.metric);
      return;
    case "And":
    case "Or":
      each(node.operands, visit);
      return;
    case "Not":
      visit(node.operand);
      return;
    case "Iface":
      each(node.names, visit);
      return;
    case "AddressIn":
      each(node.prefixes, visit);
      return;
    case "Port":
    case "Family":
    case "Side":
    case "Error":
    case "Process":
      visit(node.value);
      return;
    case "Flag":
      visit(node.name);
      return;
    case "Compare":
      visit(node.subject);
      visit(node.value);
      return;
    case "Create":
      maybe(node.via, visit);
      maybe(node.from, visit);
      maybe(node.to, visit);
      maybe(node.port, visit);
      suffixes(node, visit);
      return;
    case "Destroy":
      maybe(node.via, visit);
      suffixes(node, visit);
      return;
    case "Announce":
      visit(node.target);
      maybe(node.port, visit);
      suffixes(node, visit);
      return;
    case "Withdraw":
      visit(node.target);
      suffixes(node, visit);
      return;
    case "Set":
      visit(node.iface);
      suffixes(node, visit);
      return;
    case "Log":
      visit(node.message);
      suffixes(node, visit);
      return;
    default:
      return;
  }
}

/** The direct children of a node, in source order. */
export function children(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  forEachChild(node, (child) => out.push(child));
  return out;
}

export type Visitor = { [K in SyntaxNode["kind"]]?: (node: Extract<SyntaxNode, { kind: K }>) => void };

/** Walk depth-first in source order, calling the visitor's handler for each node kind it has. */
export function walk(node: SyntaxNode, visitor: Visitor): void {
  // An explicit stack, not recursion: deep conditions cannot overflow it.
  const stack: SyntaxNode[] = [node];
  const next: SyntaxNode[] = [];
  const collect = (child: SyntaxNode) => next.push(child);
  while (stack.length > 0) {
    const current = stack.pop() as SyntaxNode;
    const handler = visitor[current.kind] as ((n: SyntaxNode) => void) | undefined;
    handler?.(current);
    next.length = 0;
    forEachChild(current, collect);
    for (let i = next.length - 1; i >= 0; i -= 1) stack.push(next[i] as SyntaxNode);
  }
}

export function walkFiles(files: readonly PolicyFile[], visitor: Visitor): void {
  for (const file of files) walk(file, visitor);
}

/** Call `visit` on each predicate of a condition, in source order, through and/or/not. */
export function forEachPredicate(condition: Condition, visit: (predicate: Predicate) => void): void {
  const stack: Condition[] = [condition];
  while (stack.length > 0) {
    const current = stack.pop() as Condition;
    if (current.kind === "And" || current.kind === "Or") {
      for (let i = current.operands.length - 1; i >= 0; i -= 1) stack.push(current.operands[i] as Condition);
    } else if (current.kind === "Not") stack.push(current.operand);
    else visit(current);
  }
}

export type { Action, Statement };
