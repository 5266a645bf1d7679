import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatFile } from "../language/formatter.js";
import { tokenize } from "../language/lexer.js";
import { parseFile } from "../language/parse.js";
import { printAction, printCondition, printStatement } from "../language/printer.js";
import { sourceFile, span } from "../language/source.js";
import type {
  AddressLiteral,
  Condition,
  LogAction,
  Name,
  NumberLiteral,
  PolicyFile,
  Predicate,
  Rule,
  SchedulerDecl,
} from "../language/syntax-tree.js";
import { COMPARISONS, KEYWORDS } from "../language/vocabulary.js";

/** The language issue's sample policy, with its comments and blank lines. */
const SAMPLE = readFileSync(new URL("./fixtures/sample.policy", import.meta.url), "utf8");

function parse(text: string): PolicyFile {
  const result = parseFile(sourceFile("test.mptcp", text));
  expect(result.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
  return result.tree;
}

const fmt = (text: string): string => formatFile(parse(text));

/** A tree without positions, for "same tree modulo spans". */
function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => key !== "span" && key !== "file")
        .map(([key, v]) => [key, strip(v)]),
    );
  }
  return value;
}

/** What a file means: its statements, and its comments' words in order. */
function meaning(tree: PolicyFile): unknown {
  return { statements: strip(tree.statements), comments: tree.comments.map((c) => c.text.trimEnd()) };
}

function expectStableAndFaithful(text: string): string {
  const once = fmt(text);
  expect(fmt(once)).toBe(once);
  expect(meaning(parse(once))).toEqual(meaning(parse(text)));
  expect(once).not.toMatch(/[ \t]$/m);
  expect(once.endsWith("\n") && !once.endsWith("\n\n")).toBe(true);
  return once;
}

const ruleOf = (text: string): Rule => parse(text).statements[0] as Rule;
const condition = (text: string): Condition => ruleOf(`on established if ${text} then log "x"`).condition as Condition;
const printedCondition = (text: string): string => printCondition(condition(text));
const printedAction = (text: string): string => printAction(ruleOf(`on established then ${text}`).actions[0]!);
const printedStatement = (text: string): string[] => printStatement(parse(text).statements[0]!);

describe("printCondition", () => {
  it.each([
    ["iface wifi", "iface wifi"],
    ["iface in (wifi, lte)", "iface in (wifi,lte)"],
    ["iface in (wifi)", "iface in ( wifi )"],
    ["remote in 10.0.0.0/8", "remote  in 10.0.0.0/8"],
    ["remote in (10.0.0.0/8, 192.0.2.0/24)", "remote in (10.0.0.0/8,192.0.2.0/24)"],
    ["local in 2001:db8::/32", "local in 2001:db8::/32"],
    ["remote port 443", "remote port 443"],
    ["remote port == 443", "remote port ==443"],
    ["local port < 1024", "local port<1024"],
    ["family ipv4", "family ipv4"],
    ["side server", "side server"],
    ["backup", "backup"],
    ["active", "active"],
    ["stale", "stale"],
    ["error timeout", "error timeout"],
    ["error 110", "error 110"],
    ["subflows < 4", "subflows<4"],
    ["subflows >= 2", "subflows >= 2"],
    ["rtt < 150ms", "rtt < 150ms"],
    ["rtt_var != 1.5s", "rtt_var != 1.5s"],
  ])("prints the predicate %s", (expected, written) => {
    expect(printedCondition(written)).toBe(expected);
  });

  it.each([
    ["a or b and c", "a or (b and c)"],
    ["(a or b) and c", "(a or b) and c"],
    ["a and (b or c)", "a and (b or c)"],
    ["a or b or c", "((a or b or c))"],
    ["a and b and c", "a and b and c"],
    ["not (a and b)", "not (a and b)"],
    ["not (a or b)", "not(a or b)"],
    ["not backup", "not (backup)"],
    ["not not backup", "not not backup"],
    ["not backup and active", "(not backup) and active"],
    ["not iface wifi or rtt < 150ms and not stale", "(not iface wifi) or ((rtt < 150ms) and (not stale))"],
  ])("prints %s with the parentheses precedence needs", (expected, written) => {
    expect(printedCondition(written)).toBe(expected);
  });

  it("keeps written parentheses around the same operator, which keep the tree", () => {
    // The parser flattens `a and b and c`; `(a and b) and c` is a different tree.
    expect(printedCondition("(a and b) and c")).toBe("(a and b) and c");
    expect(printedCondition("a or (b or c)")).toBe("a or (b or c)");
  });

  it("prints a long chain of `not` without recursion", () => {
    let c: Condition = flag("stale");
    for (let i = 0; i < 100_000; i++) c = { kind: "Not", operand: c, span: NOWHERE };
    const printed = printCondition(c);
    expect(printed.length).toBe(100_000 * 4 + "stale".length);
  });
});

describe("printAction", () => {
  it.each([
    ["create", "create"],
    ["create via lte", "create via lte"],
    ["create via lte backup", "create backup via lte"],
    ["create from 192.0.2.1 to 198.51.100.7 port 443 backup", "create backup port 443 to 198.51.100.7 from 192.0.2.1"],
    ["create via wifi to announced", "create to announced via wifi"],
    ["create to remote", "create to remote"],
    ["create via lte after 2s", "create via lte after 2s"],
    ["create via lte backup after 2s retry 3", "create backup via lte retry 3 after 2s"],
    ["create retry 1", "create retry 1"],
    ["destroy", "destroy"],
    ["destroy via lte after 500ms", "destroy via lte after 500ms"],
    ["announce wifi", "announce wifi"],
    ["announce wifi port 8443", "announce wifi port 8443"],
    ["announce 192.0.2.1", "announce 192.0.2.1"],
    ["withdraw wifi", "withdraw wifi"],
    ["withdraw 2001:db8::1", "withdraw 2001:db8::1"],
    ["set lte backup", "set lte backup"],
    ["set lte active after 1s", "set lte active after 1s"],
    ['log "wifi is back"', 'log "wifi is back"'],
    ['log "say \\"hi\\""', 'log "say \\"hi\\""'],
    ['log "x" after 2s', 'log "x" after 2s'],
  ])("prints %s", (expected, written) => {
    expect(printedAction(written)).toBe(expected);
  });

  it("escapes quotes and backslashes in a log message", () => {
    const action: LogAction = {
      kind: "Log",
      message: { kind: "String", value: 'a "b" \\ c', terminated: true, span: NOWHERE },
      after: undefined,
      span: NOWHERE,
    };
    expect(printAction(action)).toBe('log "a \\"b\\" \\\\ c"');
    const reparsed = ruleOf(`on established then ${printAction(action)}`).actions[0] as LogAction;
    expect(reparsed.message.value).toBe('a "b" \\ c');
  });
});

describe("printStatement", () => {
  it.each([
    ['interface lte = "wwan0", "usb*"', 'interface   lte="wwan0" ,"usb*"'],
    ['interface wifi = "wlan0"', 'interface wifi = "wlan0"'],
    ["limits subflows 4 add_addr_accepted 2", "limits subflows 4\n  add_addr_accepted 2"],
    ["endpoint wifi subflow backup port 8080", "endpoint wifi port 8080 subflow backup"],
    ["endpoint lte backup subflow", "endpoint lte backup subflow"],
    ["endpoint 192.0.2.1 signal", "endpoint 192.0.2.1 signal"],
    ["on established then log \"x\"", "on established then log \"x\""],
    ["on iface_down wifi then set lte active", "on iface_down wifi then set lte active"],
    ["on established if side server then announce wifi port 8443", "on established\n  if side server\n  then announce wifi port 8443"],
    ['on iface_up wifi then set lte backup, log "wifi is back"', 'on iface_up wifi then set lte backup ,log "wifi is back"'],
    ["on iface_up wifi if iface wifi then destroy", "on iface_up wifi if iface wifi then destroy"],
  ])("prints %s", (expected, written) => {
    expect(printedStatement(written)).toEqual([expected]);
  });

  it("prints scheduler blocks with their steps indented", () => {
    expect(printedStatement("scheduler voip for remote port 5060 { redundant where active }")).toEqual([
      "scheduler voip for remote port 5060 {",
      "  redundant where active",
      "}",
    ]);
    expect(
      printedStatement(
        "scheduler s {\nuse any\nuse where iface wifi by lowest rtt\nuse by highest cwnd\nuse\nredundant\nround_robin where not backup\nround_robin\n}",
      ),
    ).toEqual([
      "scheduler s {",
      "  use any",
      "  use where iface wifi by lowest rtt",
      "  use by highest cwnd",
      "  use",
      "  redundant",
      "  round_robin where not backup",
      "  round_robin",
      "}",
    ]);
    expect(printedStatement("scheduler x {}")).toEqual(["scheduler x {", "}"]);
  });

  it("does not throw on trees the parser never makes", () => {
    const rule: Rule = { kind: "Rule", event: name("established"), iface: undefined, condition: { kind: "And", operands: [], span: NOWHERE }, actions: [], span: NOWHERE };
    expect(() => printStatement(rule)).not.toThrow();
    expect(printStatement(rule)[0]).not.toMatch(/\s$/);
    const empty: SchedulerDecl = { kind: "Scheduler", name: name("x"), selector: undefined, steps: [], span: NOWHERE };
    expect(() => formatFile({ kind: "File", file: FILE, statements: [rule, empty], comments: [] })).not.toThrow();
  });
});

describe("formatFile", () => {
  it("lays out the sample policy, keeping its comments and grouping", () => {
    const expected = SAMPLE.replace('interface lte  = "wwan0", "usb*"          #', 'interface lte = "wwan0", "usb*"  #').replace(
      "endpoint wifi subflow                     #",
      "endpoint wifi subflow  #",
    );
    expect(expectStableAndFaithful(SAMPLE)).toBe(expected);
  });

  it("puts each statement on one line with single spaces", () => {
    expect(fmt('interface   wifi=\n  "wlan0"\non   established\n  if iface wifi\n  then\n    create via lte  ,\n    log "x"\n')).toBe(
      'interface wifi = "wlan0"\non established if iface wifi then create via lte, log "x"\n',
    );
  });

  it("keeps leading comments before their statement", () => {
    expect(fmt("# one\n   # two\ninterface wifi = \"wlan0\"\n")).toBe('# one\n# two\ninterface wifi = "wlan0"\n');
  });

  it("keeps trailing comments two spaces after the line, without aligning", () => {
    expect(fmt('interface wifi = "wlan0"    # w\ninterface lte = "wwan0"# l\n')).toBe('interface wifi = "wlan0"  # w\ninterface lte = "wwan0"  # l\n');
  });

  it("keeps a trailing comment on the line where a multi-line statement ends", () => {
    expect(fmt("on established\n  then log \"x\",\n  log \"y\"   # done\n")).toBe('on established then log "x", log "y"  # done\n');
  });

  it("moves comments from inside a multi-line statement to just before it", () => {
    expect(
      expectStableAndFaithful(
        'interface wifi = "wlan0"\n\non established   # first\n  if iface wifi # second\n  then log "x"  # third\n',
      ),
    ).toBe('interface wifi = "wlan0"\n\n# first\n# second\non established if iface wifi then log "x"  # third\n');
  });

  it("keeps comments inside scheduler blocks, indented with the steps", () => {
    const text = [
      "scheduler prefer_wifi {   # opening",
      "# about the first step",
      "      use where iface wifi   # trailing step",
      "",
      "",
      "  # about the fallback",
      "  use any",
      "    # before the closing brace",
      "}  # closing",
      "",
    ].join("\n");
    expect(expectStableAndFaithful(text)).toBe(
      [
        "scheduler prefer_wifi {  # opening",
        "  # about the first step",
        "  use where iface wifi  # trailing step",
        "",
        "  # about the fallback",
        "  use any",
        "  # before the closing brace",
        "}  # closing",
        "",
      ].join("\n"),
    );
  });

  it("keeps comments of a scheduler header and of a multi-line step", () => {
    const text = "scheduler s for # header\n  remote port 1\n{ # brace\n  use where   # step\n    iface wifi\n    by lowest rtt\n}\n";
    expect(expectStableAndFaithful(text)).toBe(
      "# header\nscheduler s for remote port 1 {  # brace\n  # step\n  use where iface wifi by lowest rtt\n}\n",
    );
  });

  it("keeps comments in an empty scheduler", () => {
    expect(expectStableAndFaithful("scheduler x { # open\n  # nothing yet\n}\nscheduler y {} # one line\n")).toBe(
      "scheduler x {  # open\n  # nothing yet\n}\nscheduler y {\n}  # one line\n",
    );
  });

  it("keeps comments at the end of the file", () => {
    expect(expectStableAndFaithful('interface wifi = "wlan0"\n# end\n\n\n# really the end   \n\n\n')).toBe(
      'interface wifi = "wlan0"\n# end\n\n# really the end\n',
    );
  });

  it("keeps a file of comments only", () => {
    expect(expectStableAndFaithful("\n\n# just\n# comments")).toBe("# just\n# comments\n");
  });

  it("collapses runs of blank lines to one, and drops them at the start and end", () => {
    const text = '\n\n\ninterface a = "a"\n\n\n\ninterface b = "b"\n   \n\t\n# c\n\n\ninterface c = "c"\ninterface d = "d"\n\n\n';
    expect(expectStableAndFaithful(text)).toBe('interface a = "a"\n\ninterface b = "b"\n\n# c\n\ninterface c = "c"\ninterface d = "d"\n');
  });

  it("does not force statements of different kinds apart", () => {
    const text = 'interface a = "a"\nlimits subflows 2\nendpoint a subflow\non established then log "x"\nscheduler s {\n  use any\n}\non closed then log "y"\n';
    expect(expectStableAndFaithful(text)).toBe(text);
  });

  it("keeps one blank line between steps where there were several, none after { or before }", () => {
    expect(expectStableAndFaithful("scheduler s {\n\n\n  use where stale\n\n\n\n  use any\n\n}\n")).toBe(
      "scheduler s {\n  use where stale\n\n  use any\n}\n",
    );
  });

  it("splits statements that share a line", () => {
    expect(expectStableAndFaithful('interface a = "a" interface b = "b" # both\n')).toBe('interface a = "a"\ninterface b = "b"  # both\n');
  });

  it("writes \\n line ends for \\r\\n input", () => {
    const crlf = SAMPLE.replace(/\n/g, "\r\n");
    const out = expectStableAndFaithful(crlf);
    expect(out).not.toContain("\r");
    expect(out).toBe(fmt(SAMPLE));
    expect(fmt("# a\r\n\r\n\r\ninterface a = \"a\"  # b\r\n")).toBe('# a\n\ninterface a = "a"  # b\n');
  });

  it("drops a UTF-8 byte order mark", () => {
    expect(expectStableAndFaithful(`\uFEFF${SAMPLE}`)).toBe(fmt(SAMPLE));
    expect(fmt("\uFEFF# first\ninterface a = \"a\"\n")).toBe('# first\ninterface a = "a"\n');
  });

  it("takes a lone \\r as a line end", () => {
    expect(expectStableAndFaithful('interface a = "a"\r# own line\r\rinterface b = "b"  # trailing\r')).toBe(
      'interface a = "a"\n# own line\n\ninterface b = "b"  # trailing\n',
    );
  });

  it("does not take a { inside a header comment for the block's brace", () => {
    expect(expectStableAndFaithful("scheduler s for stale # not { this\n{ # this\n  use any\n}\n")).toBe(
      "# not { this\nscheduler s for stale {  # this\n  use any\n}\n",
    );
  });

  it("does not throw on trees of files with syntax errors", () => {
    const words = fc.constantFrom(
      ..."on if then scheduler { } ( ) , = interface limits endpoint use where by lowest any and or not iface remote port 443 in 10.0.0.0/8 wifi \"x\" # \n \r\n create via log after 2s".split(" "),
    );
    fc.assert(
      fc.property(fc.array(words, { maxLength: 40 }), (parts) => {
        const tree = parseFile(sourceFile("broken", parts.join(" "))).tree;
        expect(typeof formatFile(tree)).toBe("string");
      }),
      { numRuns: 300 },
    );
  });

  it("writes nothing for an empty file", () => {
    expect(fmt("")).toBe("");
    expect(fmt("\n \n\t\n")).toBe("");
  });

  it("canonicalises action options, endpoint flags and parentheses", () => {
    const text = "endpoint wifi port 80 signal subflow\non established if ((iface wifi)) and (remote port 443 or not (backup)) then create backup to remote via lte after 1s\n";
    expect(expectStableAndFaithful(text)).toBe(
      "endpoint wifi signal subflow port 80\non established if iface wifi and (remote port 443 or not backup) then create via lte to remote backup after 1s\n",
    );
  });

  it("is idempotent and keeps meaning under any layout of the sample's tokens", () => {
    const tokens = tokenize(sourceFile("sample", SAMPLE)).tokens.map((t) => t.image);
    const separator = fc.constantFrom(" ", " ", " ", "\n", "\r\n", "\n\n\n", "\t", "  # note\n", "\n# own line\n\n");
    fc.assert(
      fc.property(fc.array(separator, { minLength: tokens.length, maxLength: tokens.length }), (separators) => {
        const text = tokens.map((t, i) => t + separators[i]).join("");
        const once = expectStableAndFaithful(text);
        expect(strip(parse(once).statements)).toEqual(strip(parse(SAMPLE).statements));
      }),
      { numRuns: 200 },
    );
  });
});

// Generated conditions: print, reparse, print again.

const FILE = sourceFile("generated", "");
const NOWHERE = span(FILE, 0, 0);
const KEYWORD_SET = new Set(KEYWORDS);

function name(text: string): Name {
  return { kind: "Name", text, span: NOWHERE };
}

function numberLiteral(text: string): NumberLiteral {
  const match = /^(\d+(?:\.\d+)?)(.*)$/.exec(text);
  return { kind: "Number", text, value: Number(match?.[1]), unit: match?.[2] ? match[2] : undefined, span: NOWHERE };
}

function address(text: string): AddressLiteral {
  return { kind: "Address", text, span: NOWHERE };
}

function flag(text: string): Predicate {
  return { kind: "Flag", name: name(text), span: NOWHERE };
}

const identifier = fc.oneof(
  fc.constantFrom("wifi", "lte", "eth0", "stale", "rtt", "cwnd", "timeout", "ipv4", "server", "wifi-2", "x_1", "orange", "notice", "android"),
  fc.stringMatching(/^[a-z_][a-z0-9_]{0,6}$/).filter((s) => !KEYWORD_SET.has(s)),
);
const integer = fc.nat(70000).map(String);
const quantity = fc
  .tuple(fc.nat(5000), fc.option(fc.nat(99), { nil: undefined }), fc.option(fc.constantFrom("ms", "s", "us", "KB", "mbit"), { nil: undefined }))
  .map(([whole, fraction, unit]) => `${whole}${fraction === undefined ? "" : `.${fraction}`}${unit ?? ""}`);
const prefix = fc.oneof(
  fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255), fc.option(fc.nat(32), { nil: undefined })).map(([a, b, c, d, n]) => `${a}.${b}.${c}.${d}${n === undefined ? "" : `/${n}`}`),
  fc.constantFrom("2001:db8::/32", "::1", "fe80::/10", "2001:db8::1"),
);
const comparison = fc.constantFrom(...COMPARISONS);
const side = fc.constantFrom("local" as const, "remote" as const);
const list = <T>(item: fc.Arbitrary<T>) =>
  fc.oneof(item.map((x) => ({ items: [x], list: false })), fc.array(item, { minLength: 1, maxLength: 3 }).map((items) => ({ items, list: true })));

const predicate: fc.Arbitrary<Predicate> = fc.oneof(
  list(identifier).map(({ items, list }): Predicate => ({ kind: "Iface", names: items.map(name), list, span: NOWHERE })),
  fc.tuple(side, list(prefix)).map(([s, { items, list }]): Predicate => ({ kind: "AddressIn", side: s, prefixes: items.map(address), list, span: NOWHERE })),
  fc
    .tuple(side, fc.option(comparison, { nil: undefined }), integer)
    .map(([s, op, value]): Predicate => ({ kind: "Port", side: s, op: op ?? "==", explicitOp: op !== undefined, value: numberLiteral(value), span: NOWHERE })),
  identifier.map((v): Predicate => ({ kind: "Family", value: name(v), span: NOWHERE })),
  identifier.map((v): Predicate => ({ kind: "Side", value: name(v), span: NOWHERE })),
  fc.oneof(fc.constantFrom("backup", "active"), identifier).map(flag),
  fc.oneof(identifier.map(name), integer.map(numberLiteral)).map((value): Predicate => ({ kind: "Error", value, span: NOWHERE })),
  fc
    .tuple(fc.oneof(fc.constant("subflows"), identifier), comparison, quantity)
    .map(([subject, op, value]): Predicate => ({ kind: "Compare", subject: name(subject), op, value: numberLiteral(value), span: NOWHERE })),
);

const { condition: conditionArbitrary } = fc.letrec<{ condition: Condition }>((tie) => ({
  condition: fc.oneof(
    { maxDepth: 6, depthSize: "small" },
    predicate,
    tie("condition").map((operand): Condition => ({ kind: "Not", operand, span: NOWHERE })),
    fc.array(tie("condition"), { minLength: 2, maxLength: 3 }).map((operands): Condition => ({ kind: "And", operands, span: NOWHERE })),
    fc.array(tie("condition"), { minLength: 2, maxLength: 3 }).map((operands): Condition => ({ kind: "Or", operands, span: NOWHERE })),
  ),
}));

describe("printed conditions reparse to the same tree", () => {
  it("holds for generated conditions", () => {
    fc.assert(
      fc.property(conditionArbitrary, (generated) => {
        const printed = printCondition(generated);
        const reparsed = condition(printed);
        expect(printCondition(reparsed)).toBe(printed);
        expect(strip(reparsed)).toEqual(strip(generated));
      }),
      { numRuns: 500 },
    );
  });
});
