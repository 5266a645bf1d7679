// The server says what `mptcp-policy check DIR --format json` says, position for
// position: every example directory, and copies of them with mistakes made in
// them (a misspelt interface, a missing `then`, a bad unit, a non-ASCII comment before
// the mistake so columns count UTF-16 code units, CRLF line ends, a file the editor
// never opens), all opened in one server.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Diagnostic } from "vscode-languageserver-protocol";
import { ROOT, runCli } from "./helpers.js";
import { freshCli, messageOf, startServer, type LspSession } from "./lsp-support.js";

/** A change of the text, or a line with the same mistake added where the text has nothing to change. */
function either(change: (text: string) => string, line: string): (text: string) => string {
  return (text) => {
    const changed = change(text);
    return changed !== text ? changed : `${text}${line}\n`;
  };
}

/** Mistakes made in a copy of an example: each turns its text into another. */
const MISTAKES: Record<string, (text: string) => string> = {
  typo: either((t) => t.replace(/^(on [^#\n]*?\b(?:iface|via|set) )(\w+)/m, "$1$2x"), 'on iface_up wfi then log "x"'),
  "no then": either((t) => t.replace(/^(on [^#\n]*?) then /m, "$1 "), 'on iface_up log "x"'),
  "bad unit": either((t) => t.replace(/^([^#\n]*?\b\d+)(ms|s)\b/m, "$1mz"), 'on iface_up then log "x" after 2mz'),
  "non-ASCII before the mistake": (t) => `${t}# café ✓ 🚀\non iface_up wfi then log "naïve ✓ 🚀" # ünïcode\non established then log "é" after 2zz\n`,
  crlf: (t) => `${t}on iface_up wfi then log "x"\n`.replace(/\n/g, "\r\n"),
};

interface Case {
  readonly name: string;
  readonly dir: string;
  /** Files the editor opens; the others stay on disk. */
  readonly open: readonly string[];
}

let base: string;
let session: LspSession;
const cases: Case[] = [];

beforeAll(async () => {
  freshCli();
  base = mkdtempSync(join(tmpdir(), "mptcp-policy-lsp-diff-"));
  const examples = readdirSync(join(ROOT, "examples"), { withFileTypes: true }).filter((e) => e.isDirectory());
  for (const example of examples) {
    const source = join(ROOT, "examples", example.name);
    const files = readdirSync(source)
      .filter((f) => f.endsWith(".policy"))
      .sort();
    if (files.length === 0) continue; // not a policy example (examples/ansible is a playbook)
    const as = (name: string, change?: (text: string) => string, open = files, target = files[files.length - 1] as string) => {
      const dir = join(base, name);
      cpSync(source, dir, { recursive: true });
      if (change) writeFileSync(join(dir, target), change(readFileSync(join(dir, target), "utf8")));
      cases.push({ name, dir, open });
    };
    as(`${example.name}`);
    // The mistake goes into the last file; with two files, the first stays closed.
    for (const [mistake, change] of Object.entries(MISTAKES)) as(`${example.name}, ${mistake}`, change, files.length > 1 ? files.slice(-1) : files);
    // And a mistake in the file the editor never opens.
    if (files.length > 1) as(`${example.name}, in the closed file`, (t) => t.replace(/^endpoint (\w+)/m, "endpoint $1x"), files.slice(-1), files[0]);
  }
  session = await startServer();
}, 120_000);

afterAll(async () => {
  await session?.stop();
  if (base) rmSync(base, { recursive: true, force: true });
});

function asCheck(d: Diagnostic): string {
  return `${d.range.start.line + 1}:${d.range.start.character + 1}-${d.range.end.line + 1}:${d.range.end.character + 1} ${String(d.code)} ${messageOf(d).split("\n")[0]}`;
}

describe("mptcp-policy lsp agrees with check", () => {
  it("on every example and its broken copies, file by file", async () => {
    expect(cases.length).toBeGreaterThan(20);
    for (const c of cases) {
      const files = readdirSync(c.dir)
        .filter((f) => f.endsWith(".policy"))
        .sort();
      const uris = new Map(files.map((f) => [f, pathToFileURL(join(c.dir, f)).href]));
      // Each open file gets a publication; the closed ones do if they have something to say.
      const published = c.open.map((f) => session.nextDiagnostics(uris.get(f) as string));
      for (const f of c.open) session.open(uris.get(f) as string, readFileSync(join(c.dir, f), "utf8"));
      await Promise.all(published);
      // One more round trip, so a publication for a closed file has arrived too.
      await session.connection.sendRequest("textDocument/hover", { textDocument: { uri: uris.get(c.open[0] as string) }, position: { line: 0, character: 0 } });
      const check = runCli(["check", "--format", "json", c.dir]);
      const expected = (
        JSON.parse(check.stdout) as { file: string; line: number; column: number; endLine: number; endColumn: number; code: string; message: string }[]
      ).map((d) => `${d.file.slice(c.dir.length + 1)} ${d.line}:${d.column}-${d.endLine}:${d.endColumn} ${d.code} ${d.message}`);
      const got = files.flatMap((f) => (session.diagnostics.get(uris.get(f) as string)?.diagnostics ?? []).map((d) => `${f} ${asCheck(d)}`));
      expect(got, c.name).toEqual(expected);
      if (c.name.includes(",")) expect(expected.length, `${c.name} makes a mistake`).toBeGreaterThan(0);
    }
  }, 120_000);
});
