// Default traversal of the syntax tree: a pass names the node kinds it cares about
// and every other node is walked through.
import type { Action, Condition, PolicyFile, Statement, SyntaxNode } from "./syntax-tree.js";

/** The direct children of a node, in source order. */
export function children(node: SyntaxNode): SyntaxNode[] {
  const out: (SyntaxNode | undefined)[] = [];
  switch (node.kind) {
    case "File":
      out.push(...node.statements);
      break;
    case "Interface":
      out.push(node.name, ...node.patterns);
      break;
    case "Limits":
      out.push(...node.entries);
      break;
    case "Limit":
      out.push(node.name, node.value);
      break;
    case "Endpoint":
      out.push(node.target, ...node.flags, node.port);
      break;
    case "Rule":
      out.push(node.event, node.iface, node.condition, ...node.actions);
      break;
    case "Scheduler":
      out.push(node.name, node.selector, ...node.steps);
      break;
    case "Step":
      out.push(node.where, node.order);
      break;
    case "Ordering":
      out.push(node.metric);
      break;
    case "And":
    case "Or":
      out.push(...node.operands);
      break;
    case "Not":
      out.push(node.operand);
      break;
    case "Iface":
      out.push(...node.names);
      break;
    case "AddressIn":
      out.push(...node.prefixes);
      break;
    case "Port":
      out.push(node.value);
      break;
    case "Family":
    case "Side":
      out.push(node.value);
      break;
    case "Flag":
      out.push(node.name);
      break;
    case "Error":
      out.push(node.value);
      break;
    case "Compare":
      out.push(node.subject, node.value);
      break;
    case "Create":
      out.push(node.via, node.from, node.to, node.port, node.after);
      break;
    case "Destroy":
      out.push(node.via, node.after);
      break;
    case "Announce":
      out.push(node.target, node.port, node.after);
      break;
    case "Withdraw":
      out.push(node.target, node.after);
      break;
    case "Set":
      out.push(node.iface, node.after);
      break;
    case "Log":
      out.push(node.message, node.after);
      break;
    default:
      break;
  }
  return out.filter((n): n is SyntaxNode => n !== undefined);
}

export type Visitor = { [K in SyntaxNode["kind"]]?: (node: Extract<SyntaxNode, { kind: K }>) => void };

/** Walk depth-first, calling the visitor's handler for each node kind it has. */
export function walk(node: SyntaxNode, visitor: Visitor): void {
  const stack: SyntaxNode[] = [node];
  while (stack.length > 0) {
    const current = stack.pop() as SyntaxNode;
    const handler = visitor[current.kind] as ((n: SyntaxNode) => void) | undefined;
    handler?.(current);
    const next = children(current);
    for (let i = next.length - 1; i >= 0; i -= 1) stack.push(next[i] as SyntaxNode);
  }
}

export function walkFiles(files: readonly PolicyFile[], visitor: Visitor): void {
  for (const file of files) walk(file, visitor);
}

/** Predicates of a condition, each with whether it sits under a `not` or an `or`. */
export function predicatesOf(condition: Condition | undefined): Condition[] {
  const out: Condition[] = [];
  if (condition) walk(condition, { Iface: (n) => out.push(n), AddressIn: (n) => out.push(n), Port: (n) => out.push(n), Family: (n) => out.push(n), Side: (n) => out.push(n), Flag: (n) => out.push(n), Error: (n) => out.push(n), Compare: (n) => out.push(n) });
  return out;
}

export type { Action, Statement };
