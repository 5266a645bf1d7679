// The language service (language/service/) as pure functions: what both hosts (the
// playground and `mptcp-policy lsp`) get. Positions are 1-based, as the checker's.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EVENTS } from "../language/vocabulary.js";
import {
  analyzePolicy,
  completionAt,
  definitionAt,
  diagnosticsOf,
  hoverAt,
  lineEdit,
  offsetAt,
  outlineAt,
  quickFixes,
  referencesAt,
  renameAt,
  renameTarget,
  semanticTokens,
} from "../language/service/index.js";

const INTERFACES = 'interface wifi = "wlan0"\ninterface lte = "wwan0", "usb*"\nendpoint wifi subflow\n';
const RULES =
  "on subflow_closed if iface wifi then create via lte\non iface_up wifi then set lte backup\n\nscheduler fast {\n  use where iface wifi and rtt < 150ms\n  use any\n}\n";
const POLICY = [
  { name: "10-interfaces.policy", text: INTERFACES },
  { name: "20-rules.policy", text: RULES },
];

function apply(text: string, edit: { start: number; end: number; newText: string } | undefined): string {
  return edit === undefined ? text : text.slice(0, edit.start) + edit.newText + text.slice(edit.end);
}

describe("the language service", () => {
  const analysis = analyzePolicy(POLICY);

  it("checks the files together, as check DIR does, and reports by file name", () => {
    expect(diagnosticsOf(analysis)).toEqual([]);
    const broken = analyzePolicy([POLICY[0] as { name: string; text: string }, { name: "20-rules.policy", text: RULES.replace("via lte", "via lt") }]);
    expect(diagnosticsOf(broken)).toEqual([
      expect.objectContaining({ file: "20-rules.policy", line: 1, column: 49, endColumn: 51, code: "E100", hints: ["did you mean 'lte'?"] }),
    ]);
  });

  it("goes to a name's declaration in the other file, finds its uses, and renames them all", () => {
    expect(definitionAt(analysis, "20-rules.policy", { line: 1, column: 50 })).toEqual([
      { file: "10-interfaces.policy", line: 2, column: 11, endLine: 2, endColumn: 14 },
    ]);
    expect(referencesAt(analysis, "10-interfaces.policy", { line: 1, column: 12 }).map((l) => `${l.file}:${l.line}:${l.column}`)).toEqual([
      "10-interfaces.policy:1:11",
      "10-interfaces.policy:3:10",
      "20-rules.policy:1:28",
      "20-rules.policy:2:13",
      "20-rules.policy:5:19",
    ]);
    expect(renameTarget(analysis, "20-rules.policy", { line: 4, column: 12 })).toEqual({
      name: "fast",
      range: { file: "20-rules.policy", line: 4, column: 11, endLine: 4, endColumn: 15 },
    });
    const renamed = renameAt(analysis, "20-rules.policy", { line: 2, column: 27 }, "cell");
    expect("edits" in renamed && renamed.edits.map((e) => `${e.range.file}:${e.range.line}:${e.range.column}`)).toEqual([
      "10-interfaces.policy:2:11",
      "20-rules.policy:1:49",
      "20-rules.policy:2:27",
    ]);
    expect(renameAt(analysis, "20-rules.policy", { line: 2, column: 27 }, "9lives")).toEqual({ error: expect.stringContaining("not a valid name") });
    expect(renameAt(analysis, "20-rules.policy", { line: 4, column: 12 }, "a_very_long_scheduler")).toEqual({
      error: "a scheduler name has at most 15 characters",
    });
    // Nothing to rename on a keyword or an undeclared name.
    expect(renameTarget(analysis, "20-rules.policy", { line: 1, column: 2 })).toBeUndefined();
    const typo = analyzePolicy([{ name: "a.policy", text: 'on iface_up wfi then log "x"\n' }]);
    expect(renameTarget(typo, "a.policy", { line: 1, column: 14 })).toBeUndefined();
    expect(renameAt(typo, "a.policy", { line: 1, column: 14 }, "wifi")).toEqual({ error: "interface 'wfi' is not declared: nothing to rename" });
  });

  it("offers the vocabulary's events and the grammar's action options as they are now", () => {
    const open = analyzePolicy([{ name: "a.policy", text: `${INTERFACES}on ` }]);
    const events = completionAt(open, "a.policy", { line: 4, column: 4 }).items.map((i) => i.label);
    expect(events).toEqual(EVENTS.map((e) => e.name));
    const create = analyzePolicy([{ name: "a.policy", text: `${INTERFACES}on established then create via lte ` }]);
    const options = completionAt(create, "a.policy", { line: 4, column: 38 }).items.map((i) => i.label);
    expect(options).toEqual(expect.arrayContaining(["to", "port", "backup", "after"]));
    expect(options).not.toContain("via");
    // Inside a comment or a string: nothing.
    const comment = analyzePolicy([{ name: "a.policy", text: "# on " }]);
    expect(completionAt(comment, "a.policy", { line: 1, column: 6 }).items).toEqual([]);
    // The word being typed is reported for the host to replace.
    const typed = analyzePolicy([{ name: "a.policy", text: "on subf" }]);
    expect(completionAt(typed, "a.policy", { line: 1, column: 8 }).word).toEqual({ start: 4, end: 8 });
  });

  it("hovers words of the language and declared names, with the word's range", () => {
    expect(hoverAt(analysis, "20-rules.policy", { line: 1, column: 24 })).toEqual({
      markdown: expect.stringContaining("Condition on the interface"),
      range: { file: "20-rules.policy", line: 1, column: 22, endLine: 1, endColumn: 27 },
    });
    expect(hoverAt(analysis, "20-rules.policy", { line: 1, column: 50 })?.markdown).toContain('`"wwan0"`, `"usb*"`');
    expect(hoverAt(analysis, "20-rules.policy", { line: 5, column: 36 })?.markdown).toContain("milliseconds");
    expect(hoverAt(analysis, "20-rules.policy", { line: 3, column: 1 })).toBeUndefined();
  });

  it("turns hints that name one word into fixes of that word", () => {
    const fixesOf = (text: string) =>
      quickFixes(analyzePolicy([{ name: "a.policy", text }]), "a.policy", { line: 1, endLine: 99 }).map((f) => [
        f.title,
        f.range.column,
        f.range.endColumn,
        f.newText,
      ]);
    expect(fixesOf(`${INTERFACES}on iface_up if iface wfi then log "x"\n`)).toEqual([["Change to 'wifi'", 22, 25, "wifi"]]);
    // The misspelt unit of a number: only the unit is replaced.
    expect(fixesOf(`${INTERFACES}scheduler s {\n  use where rtt < 150mz\n}\n`)).toEqual([["Change to 'ms'", 22, 24, "ms"]]);
    expect(fixesOf('On iface_up then log "x"\n')).toEqual([["Change to 'on'", 1, 3, "on"]]);
    expect(fixesOf('on establishd then log "x"\n')).toEqual([["Change to 'established'", 4, 14, "established"]]);
    // A hint that is a whole statement is no quick fix.
    expect(fixesOf('on established then log "x"\n')).toEqual([]);
  });

  it("outlines a file and classifies its tokens, declared names apart", () => {
    expect(outlineAt(analysis, "20-rules.policy").map((s) => [s.kind, s.name, s.children.length])).toEqual([
      ["rule", "on subflow_closed", 0],
      ["rule", "on iface_up wifi", 0],
      ["scheduler", "fast", 2],
    ]);
    const tokens = semanticTokens(analysis, "20-rules.policy").filter((t) => t.line === 4 || t.line === 1);
    expect(tokens.map((t) => `${t.line}:${t.column}:${t.type}${t.declaration ? "+decl" : ""}`)).toEqual([
      "1:1:keyword",
      "1:4:event",
      "1:19:keyword",
      "1:22:keyword",
      "1:28:interface",
      "1:33:keyword",
      "1:38:keyword",
      "1:45:keyword",
      "1:49:interface",
      "4:1:keyword",
      "4:11:class+decl",
    ]);
  });

  it("maps 1-based positions to offsets, clamped to the line and the text", () => {
    expect(offsetAt("ab\ncd", { line: 2, column: 2 })).toBe(4);
    expect(offsetAt("ab\ncd", { line: 1, column: 99 })).toBe(2);
    expect(offsetAt("ab\ncd", { line: 9, column: 1 })).toBe(5);
  });

  it("formats with one edit of whole lines that gives the formatted text", () => {
    const line = fc.constantFrom("a", "b", "", "on x then y", "  z");
    const text = fc.array(line, { maxLength: 8 }).chain((lines) => fc.boolean().map((end) => lines.join("\n") + (end ? "\n" : "")));
    fc.assert(
      fc.property(text, text, (before, after) => {
        const edit = lineEdit(before, after);
        expect(apply(before, edit)).toBe(after);
        if (edit) {
          // Whole lines: it starts at a line start and ends at one or at the end of the text.
          expect(edit.start === 0 || before[edit.start - 1] === "\n").toBe(true);
          expect(edit.end === before.length || before[edit.end - 1] === "\n").toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
    expect(lineEdit("a\nb\nc\n", "a\nB\nc\n")).toEqual({ start: 2, end: 4, newText: "B\n" });
  });
});
