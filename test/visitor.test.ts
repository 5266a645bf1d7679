// The syntax tree's default traversal: every node once, in source order, through every
// kind of statement, condition and action.
import { describe, expect, it } from "vitest";
import { parseFile } from "../language/parse.js";
import { sourceFile } from "../language/source.js";
import type { Condition, Rule, SyntaxNode } from "../language/syntax-tree.js";
import { children, forEachPredicate, walk } from "../language/visitor.js";

const POLICY = `interface wifi = "wlan0", "wlp*"
limits subflows 4
endpoint wifi subflow port 8080
on established if iface wifi and not (remote port 443 or local in 10.0.0.0/8) then create via wifi to remote port 80 backup after 2s, log "x"
scheduler s for side client {
  use where rtt < 150ms by highest cwnd
  round_robin where not backup
}
`;

function tree() {
  const { tree, diagnostics } = parseFile(sourceFile("t.policy", POLICY));
  expect(diagnostics).toEqual([]);
  return tree;
}

describe("visitor", () => {
  it("walks every node once, in source order", () => {
    const starts: number[] = [];
    const kinds: string[] = [];
    const visited = new Set<SyntaxNode>();
    const all = (node: SyntaxNode) => {
      expect(visited.has(node)).toBe(false);
      visited.add(node);
      kinds.push(node.kind);
      if (node.kind !== "File") starts.push(node.span.start);
    };
    const handlers = Object.fromEntries(
      ["File", "Interface", "Limits", "Limit", "Endpoint", "Rule", "Scheduler", "Step", "Ordering", "And", "Or", "Not", "Iface", "AddressIn", "Port", "Family", "Side", "Flag", "Error", "Compare", "Create", "Destroy", "Announce", "Withdraw", "Set", "Log", "Name", "String", "Number", "Address"].map((k) => [k, all]),
    );
    walk(tree(), handlers);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    // wifi, subflows, wifi, subflow, established, wifi, wifi, remote, s, client, rtt, cwnd, backup
    expect(kinds.filter((k) => k === "Name").length).toBe(13);
    expect(kinds).toEqual(expect.arrayContaining(["Limit", "Endpoint", "Not", "Or", "AddressIn", "Port", "Create", "Log", "Step", "Ordering", "Compare", "Flag", "Side"]));
  });

  it("calls a pass only for the kinds it names", () => {
    const names: string[] = [];
    walk(tree(), { Iface: (n) => names.push(...n.names.map((x) => x.text)), Log: (n) => names.push(n.message.value) });
    expect(names).toEqual(["wifi", "x"]);
  });

  it("lists a node's children without the options left out", () => {
    const rule = tree().statements[3] as Rule;
    expect(children(rule).map((c) => c.kind)).toEqual(["Name", "And", "Create", "Log"]);
    expect(children(rule.actions[0] as SyntaxNode).map((c) => c.kind)).toEqual(["Name", "Name", "Number", "Number"]);
  });

  it("visits the predicates of a condition in order, through and, or and not", () => {
    const condition = (tree().statements[3] as Rule).condition as Condition;
    const seen: string[] = [];
    forEachPredicate(condition, (p) => seen.push(p.kind));
    expect(seen).toEqual(["Iface", "Port", "AddressIn"]);
  });
});
