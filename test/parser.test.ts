// The lexer and the parser on their own: tokens, tree shapes, precedence, recovery
// and the positions users see.
import { describe, expect, it } from "vitest";
import { tokenize } from "../language/lexer.js";
import { parseFile } from "../language/parse.js";
import { policyParser } from "../language/parser.js";
import { sourceFile } from "../language/source.js";
import type { Condition, Rule, SchedulerDecl } from "../language/syntax-tree.js";
import { diagnose } from "./helpers.js";

function parse(text: string) {
  return parseFile(sourceFile("t.policy", text));
}

function ruleOf(text: string): Rule {
  const { tree, diagnostics } = parse(text);
  expect(diagnostics).toEqual([]);
  return tree.statements[0] as Rule;
}

/** A compact form of a condition tree, to compare shapes. */
function shape(c: Condition | undefined): string {
  if (!c) return "-";
  switch (c.kind) {
    case "And":
    case "Or":
      return `${c.kind}(${c.operands.map(shape).join(",")})`;
    case "Not":
      return `Not(${shape(c.operand)})`;
    case "Iface":
      return `iface:${c.names.map((n) => n.text).join("|")}`;
    case "Flag":
      return c.name.text;
    case "Compare":
      return `${c.subject.text}${c.op}${c.value.text}`;
    case "Port":
      return `${c.side}_port${c.op}${c.value.text}`;
    case "AddressIn":
      return `${c.side}:${c.prefixes.map((p) => p.text).join("|")}`;
    default:
      return c.kind;
  }
}

describe("lexer", () => {
  it("splits the kinds of token and keeps comments apart", () => {
    const { tokens, comments, diagnostics } = tokenize(sourceFile("t", 'interface lte = "wwan0", "usb*" # glob\non x if rtt <= 1.5ms and remote in 2001:db8::/32 then log "a"'));
    expect(diagnostics).toEqual([]);
    expect(tokens.map((t) => t.tokenType.name)).toEqual([
      "kw_interface", "Identifier", "Equals", "TerminatedString", "Comma", "TerminatedString",
      "kw_on", "Identifier", "kw_if", "Identifier", "LessEqual", "Number", "kw_and", "kw_remote", "kw_in", "Address6", "kw_then", "kw_log", "TerminatedString",
    ]);
    expect(comments.map((c) => c.text)).toEqual(["# glob"]);
  });

  it("does not take a keyword prefix of a longer name", () => {
    const { tokens } = tokenize(sourceFile("t", "interfaces on_call iface_x"));
    expect(tokens.map((t) => t.tokenType.name)).toEqual(["Identifier", "Identifier", "Identifier"]);
  });

  it("reads IPv4 and IPv6 addresses and prefixes as one token", () => {
    const { tokens } = tokenize(sourceFile("t", "10.0.0.0/8 192.0.2.1 ::1 fe80::1/64 2001:db8:0:1::"));
    expect(tokens.map((t) => [t.tokenType.name, t.image])).toEqual([
      ["Address4", "10.0.0.0/8"], ["Address4", "192.0.2.1"], ["Address6", "::1"], ["Address6", "fe80::1/64"], ["Address6", "2001:db8:0:1::"],
    ]);
  });

  it("reports an unexpected character with its position and goes on", () => {
    const found = diagnose('interface wifi = "wlan0" $\nendpoint wifi subflow');
    expect(found).toMatchObject([{ code: "E001", line: 1, column: 26, endColumn: 27 }]);
  });
});

describe("parser", () => {
  it("gives `and` precedence over `or`, and `not` over both", () => {
    expect(shape(ruleOf("on established if backup or not active and stale then log \"x\"").condition)).toBe("Or(backup,And(Not(active),stale))");
    expect(shape(ruleOf("on established if (backup or active) and stale then log \"x\"").condition)).toBe("And(Or(backup,active),stale)");
    expect(shape(ruleOf("on established if not not backup then log \"x\"").condition)).toBe("Not(Not(backup))");
  });

  it("reads every predicate form", () => {
    const rule = ruleOf(
      'on x if iface in (wifi, lte) and local in (10.0.0.0/8, 2001:db8::/32) and remote port 443 and local port < 1024 and family ipv6 and side server and error 110 and subflows >= 2 then log "x"',
    );
    expect(shape(rule.condition)).toBe("And(iface:wifi|lte,local:10.0.0.0/8|2001:db8::/32,remote_port==443,local_port<1024,Family,Side,Error,subflows>=2)");
  });

  it("reads every action with options in any order and `after`", () => {
    const rule = ruleOf('on announced then create backup port 80 to announced via lte after 2s, destroy via wifi, announce 192.0.2.1 port 8443, withdraw wifi, set lte active, log "a \\"b\\""');
    expect(rule.actions.map((a) => a.kind)).toEqual(["Create", "Destroy", "Announce", "Withdraw", "Set", "Log"]);
    expect(rule.actions[0]).toMatchObject({ via: { text: "lte" }, to: { text: "announced" }, port: { value: 80 }, backup: true, after: { value: 2, unit: "s" } });
    expect(rule.actions[5]).toMatchObject({ message: { value: 'a "b"' } });
  });

  it("reads an interface right after interface events", () => {
    expect(ruleOf("on iface_down wifi then set lte active").iface?.text).toBe("wifi");
  });

  it("reads scheduler blocks with every kind of step", () => {
    const { tree, diagnostics } = parse("scheduler s for remote port 5060 {\n use where iface wifi and rtt < 150ms\n use where not backup by highest cwnd\n use by lowest rtt\n use any\n redundant where active\n round_robin\n}");
    expect(diagnostics).toEqual([]);
    const scheduler = tree.statements[0] as SchedulerDecl;
    expect(scheduler.steps.map((s) => `${s.mode}${s.where ? "+where" : ""}${s.order ? `+${s.order.direction}:${s.order.metric.text}` : ""}`)).toEqual([
      "use+where", "use+where+highest:cwnd", "use+lowest:rtt", "use_any", "redundant+where", "round_robin",
    ]);
  });

  it("recovers after an error and reports each independent mistake", () => {
    const found = diagnose('interface wifi = "wlan0"\nendpoint wifi subflow\non established if then log "a"\non established then\non established if iface wifi then bogus\non iface_up wifi then log "fine"\n');
    expect(found.filter((d) => d.code === "E003").map((d) => d.line)).toEqual([3, 4, 5]);
    expect(found[1]?.message).toContain("after 'then'");
  });

  it("reports a missing closing brace at the end of the file", () => {
    const found = diagnose("scheduler s {\n  use any\n");
    expect(found).toMatchObject([{ code: "E003", line: 2, message: expect.stringContaining("end of file") }]);
  });

  it("drops repaired statements instead of guessing", () => {
    const { tree } = parse('on established then create via\non iface_up then log "y"');
    expect(tree.statements.map((s) => s.kind)).toEqual(["Rule"]);
  });

  it("keeps no tokens of the last file, and still reports its syntax errors (regression: releasing them lost the errors)", () => {
    const { diagnostics } = parse('on established if then log "a"\n' + 'on closed then log "b"\n'.repeat(1000));
    expect(diagnostics.map((d) => d.code)).toEqual(["E003"]);
    expect(policyParser().input).toHaveLength(0);
  });

  it("gives the same tree when the one parser is reused, state of an earlier failed parse aside", () => {
    parse("on established if (iface a and (not not remote port 1 or");
    parse("on established then create via a via b port 1 to remote from 10.0.0.1 backup backup");
    const again = ruleOf("on established if iface a and (not remote port 1 or local in (10.0.0.0/8, ::1/128)) then create via a backup");
    expect(shape(again.condition)).toBe("And(iface:a,Or(Not(remote_port==1),local:10.0.0.0/8|::1/128))");
    expect(again.actions[0]).toMatchObject({ kind: "Create", via: { text: "a" }, backup: true, port: undefined, to: undefined });
  });
});

describe("positions", () => {
  it("are 1-based lines and columns, end exclusive", () => {
    const [d] = diagnose('interface wifi = "wlan0"\nendpoint wifi subflow\n\non established then create via wfi');
    expect(d).toMatchObject({ line: 4, column: 32, endLine: 4, endColumn: 35, code: "E100" });
  });

  it("are the same with CRLF line ends and a byte order mark", () => {
    const text = 'interface wifi = "wlan0"\nendpoint wifi subflow\non established then create via wfi\n';
    const lf = diagnose(text);
    const crlf = diagnose(`\uFEFF${text.replace(/\n/g, "\r\n")}`);
    expect(crlf.map((d) => [d.code, d.line, d.endLine, d.endColumn - d.column])).toEqual(lf.map((d) => [d.code, d.line, d.endLine, d.endColumn - d.column]));
    expect(crlf.filter((d) => d.severity === "error").map((d) => d.code)).toEqual(["E100"]);
  });
});

describe("strings", () => {
  it("end at a quote after an escaped backslash (regression: read as unterminated)", () => {
    const rule = ruleOf('on established then log "C:\\\\"');
    expect(rule.actions[0]).toMatchObject({ message: { value: "C:\\", terminated: true } });
  });

  it("accept only \\\" and \\\\ as escapes", () => {
    expect(diagnose('on established then log "a\\nb"')).toMatchObject([{ code: "E211", column: 27, endColumn: 29 }]);
  });
});
