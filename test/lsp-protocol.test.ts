// `mptcp-policy lsp` at the protocol level, through vscode-languageserver-protocol's
// client connection to the built bundle: what Neovim 0.7's client cannot show
// (test/neovim.test.ts drives that one): incremental changes, diagnostics across the
// files of a directory and their clearing, versions, related notes, semantic tokens,
// document symbols, references, prepare rename and refused renames, quick fixes,
// a document alone, formatting refused with syntax errors, and a clean exit.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CodeAction, CompletionItem, DocumentSymbol, Hover, Location, SemanticTokens, TextEdit, WorkspaceEdit } from "vscode-languageserver-protocol";
import { freshCli, policyDir, startServer, summary, type LspSession } from "./lsp-support.js";

const INTERFACES = `# interfaces
interface wifi = "wlan0"
interface lte = "wwan0", "usb*"

limits subflows 4
endpoint wifi subflow
`;
const RULES = `on subflow_closed if iface wifi then create via lte
on iface_up wifi then set lte backup, log "wifi is back"

scheduler prefer_wifi {
  use where iface wifi and rtt < 150ms
  use any
}
`;

let session: LspSession;
let policy: ReturnType<typeof policyDir>;

beforeAll(async () => {
  freshCli();
  policy = policyDir({ "10-interfaces.policy": INTERFACES, "20-rules.policy": RULES });
  session = await startServer();
}, 60_000);

afterAll(async () => {
  await session?.stop();
  policy?.remove();
});

function request<T>(method: string, params: unknown): Promise<T> {
  return session.connection.sendRequest(method, params) as Promise<T>;
}

describe("mptcp-policy lsp, protocol level", () => {
  it("announces its features: incremental sync, completion, hover, formatting, navigation, rename, symbols, quick fixes, semantic tokens", async () => {
    expect(session.initialized.serverInfo?.name).toBe("mptcp-policy");
    expect(session.initialized.capabilities).toMatchObject({
      textDocumentSync: { openClose: true, change: 2 },
      completionProvider: { triggerCharacters: [" ", "(", ","] },
      hoverProvider: true,
      documentFormattingProvider: true,
      definitionProvider: true,
      referencesProvider: true,
      renameProvider: { prepareProvider: true },
      documentSymbolProvider: true,
      documentHighlightProvider: true,
      codeActionProvider: { codeActionKinds: ["quickfix"] },
      semanticTokensProvider: { full: true },
    });
  });

  it("checks the directory as one policy: names from the other file resolve, a mistake is reported where it is", async () => {
    const rules = policy.uri("20-rules.policy");
    const clean = session.nextDiagnostics(rules);
    session.open(rules, RULES, 1);
    expect((await clean).diagnostics).toEqual([]);
    // Incremental change: 'lte' → 'lt' on line 1 (0-based line 0, the 'e' at 50).
    const broken = session.nextDiagnostics(rules, (p) => p.version === 2);
    void session.connection.sendNotification("textDocument/didChange", {
      textDocument: { uri: rules, version: 2 },
      contentChanges: [{ range: { start: { line: 0, character: 50 }, end: { line: 0, character: 51 } }, text: "" }],
    });
    const published = await broken;
    expect(published.diagnostics.map(summary)).toEqual(["1:49-1:51 E100 interface 'lt' is not declared"]);
    expect(published.diagnostics[0]?.message).toBe("interface 'lt' is not declared\nhint: did you mean 'lte'?");
    expect(published.diagnostics[0]).toMatchObject({ severity: 1, source: "mptcp-policy" });
  });

  it("offers the checker's 'did you mean' as a quick fix", async () => {
    const rules = policy.uri("20-rules.policy");
    const diagnostics = session.diagnostics.get(rules)?.diagnostics ?? [];
    const actions = await request<CodeAction[]>("textDocument/codeAction", {
      textDocument: { uri: rules },
      range: { start: { line: 0, character: 48 }, end: { line: 0, character: 48 } },
      context: { diagnostics },
    });
    expect(actions).toEqual([
      expect.objectContaining({
        title: "Change to 'lte'",
        kind: "quickfix",
        edit: { changes: { [rules]: [{ range: { start: { line: 0, character: 48 }, end: { line: 0, character: 50 } }, newText: "lte" }] } },
      }),
    ]);
    expect(actions[0]?.diagnostics).toHaveLength(1);
    const fixed = session.nextDiagnostics(rules, (p) => p.version === 3);
    void session.connection.sendNotification("textDocument/didChange", {
      textDocument: { uri: rules, version: 3 },
      contentChanges: [{ range: { start: { line: 0, character: 48 }, end: { line: 0, character: 50 } }, text: "lte" }],
    });
    expect((await fixed).diagnostics).toEqual([]);
  });

  it("publishes for the other files of the policy too, and clears them", async () => {
    const interfaces = policy.uri("10-interfaces.policy");
    const rules = policy.uri("20-rules.policy");
    // Declaring wifi twice: E101 in this file, with a related note in the same file.
    session.open(interfaces, INTERFACES, 1);
    const twice = session.nextDiagnostics(interfaces, (p) => p.version === 2);
    void session.connection.sendNotification("textDocument/didChange", {
      textDocument: { uri: interfaces, version: 2 },
      contentChanges: [{ range: { start: { line: 3, character: 0 }, end: { line: 3, character: 0 } }, text: 'interface wifi = "wlan1"\n' }],
    });
    const d = (await twice).diagnostics;
    expect(d.map(summary)).toEqual(["4:11-4:15 E101 interface 'wifi' is declared twice"]);
    expect(d[0]?.relatedInformation).toEqual([
      { location: { uri: interfaces, range: { start: { line: 1, character: 10 }, end: { line: 1, character: 14 } } }, message: "first declared here" },
    ]);
    // Removing lte's declaration: the error is in the other file.
    const inRules = session.nextDiagnostics(rules, (p) => p.diagnostics.length > 0);
    void session.connection.sendNotification("textDocument/didChange", {
      textDocument: { uri: interfaces, version: 3 },
      contentChanges: [{ text: INTERFACES.replace('interface lte = "wwan0", "usb*"\n', "") }],
    });
    expect((await inRules).diagnostics.map(summary)).toEqual([
      "1:49-1:52 E100 interface 'lte' is not declared",
      "2:27-2:30 E100 interface 'lte' is not declared",
    ]);
    const cleared = session.nextDiagnostics(rules, (p) => p.diagnostics.length === 0);
    void session.connection.sendNotification("textDocument/didChange", {
      textDocument: { uri: interfaces, version: 4 },
      contentChanges: [{ text: INTERFACES }],
    });
    await cleared;
  });

  it("completes with the word being typed as the range to replace, and hovers with the vocabulary's help", async () => {
    const rules = policy.uri("20-rules.policy");
    // `  use where iface wifi |and rtt < 150ms`: a test is complete; `... and r|tt`: conditions starting with r.
    const next = await request<CompletionItem[]>("textDocument/completion", { textDocument: { uri: rules }, position: { line: 4, character: 23 } });
    expect(next.map((i) => i.label)).toEqual(["and", "or", "by"]);
    const typed = await request<CompletionItem[]>("textDocument/completion", { textDocument: { uri: rules }, position: { line: 4, character: 28 } });
    expect(typed.map((i) => i.label)).toEqual(["remote", "rtt", "rtt_var", "retrans"]);
    expect(typed.find((i) => i.label === "rtt")).toMatchObject({
      kind: 10,
      textEdit: { range: { start: { line: 4, character: 27 }, end: { line: 4, character: 28 } }, newText: "rtt" },
    });
    const hover = await request<Hover>("textDocument/hover", { textDocument: { uri: rules }, position: { line: 4, character: 28 } });
    expect(hover.contents).toEqual({ kind: "markdown", value: expect.stringContaining("Smoothed round-trip time") });
    expect(hover.range).toEqual({ start: { line: 4, character: 27 }, end: { line: 4, character: 30 } });
  });

  it("gives semantic tokens from the lexer, declared names told apart", async () => {
    const interfaces = policy.uri("10-interfaces.policy");
    const tokens = await request<SemanticTokens>("textDocument/semanticTokens/full", { textDocument: { uri: interfaces } });
    // Decode: [line, column, length, type, modifiers] per token.
    const decoded: number[][] = [];
    let line = 0;
    let column = 0;
    for (let i = 0; i < tokens.data.length; i += 5) {
      const [dl = 0, dc = 0, length = 0, type = 0, mods = 0] = tokens.data.slice(i, i + 5);
      line += dl;
      column = dl === 0 ? column + dc : dc;
      decoded.push([line, column, length, type, mods]);
    }
    const legend = ["keyword", "event", "property", "enumMember", "interface", "class", "variable", "number", "string", "comment", "operator"];
    const named = decoded.map(([l, c, n, t, m]) => `${l}:${c}:${n}:${legend[t as number]}${m ? "+decl" : ""}`);
    expect(named.slice(0, 6)).toEqual(["0:0:12:comment", "1:0:9:keyword", "1:10:4:interface+decl", "1:15:1:operator", "1:17:7:string", "2:0:9:keyword"]);
    expect(named).toContain("5:9:4:interface");
    expect(named).toContain("5:14:7:enumMember");
  });

  it("outlines a file and finds every reference across the policy", async () => {
    const rules = policy.uri("20-rules.policy");
    const interfaces = policy.uri("10-interfaces.policy");
    const symbols = await request<DocumentSymbol[]>("textDocument/documentSymbol", { textDocument: { uri: rules } });
    expect(symbols.map((s) => [s.name, s.kind])).toEqual([
      ["on subflow_closed", 24],
      ["on iface_up wifi", 24],
      ["prefer_wifi", 5],
    ]);
    expect(symbols[2]?.children?.map((s) => s.name)).toEqual(["use where iface wifi and rtt < 150ms", "use any"]);
    const refs = await request<Location[]>("textDocument/references", {
      textDocument: { uri: rules },
      position: { line: 1, character: 12 },
      context: { includeDeclaration: true },
    });
    expect(refs.map((r) => `${r.uri === interfaces ? "10" : "20"}:${r.range.start.line + 1}:${r.range.start.character + 1}`)).toEqual([
      "10:2:11",
      "10:6:10",
      "20:1:28",
      "20:2:13",
      "20:5:19",
    ]);
    const withoutDeclaration = await request<Location[]>("textDocument/references", {
      textDocument: { uri: rules },
      position: { line: 1, character: 12 },
      context: { includeDeclaration: false },
    });
    expect(withoutDeclaration).toHaveLength(4);
  });

  it("prepares a rename, renames across files, and refuses a name the checker would refuse", async () => {
    const rules = policy.uri("20-rules.policy");
    const interfaces = policy.uri("10-interfaces.policy");
    const prepared = await request<{ range: unknown; placeholder: string }>("textDocument/prepareRename", {
      textDocument: { uri: rules },
      position: { line: 1, character: 27 },
    });
    expect(prepared).toEqual({ range: { start: { line: 1, character: 26 }, end: { line: 1, character: 29 } }, placeholder: "lte" });
    expect(await request("textDocument/prepareRename", { textDocument: { uri: rules }, position: { line: 1, character: 1 } })).toBeNull();
    const edit = await request<WorkspaceEdit>("textDocument/rename", {
      textDocument: { uri: rules },
      position: { line: 1, character: 27 },
      newName: "cellular",
    });
    expect(Object.keys(edit.changes ?? {}).sort()).toEqual([interfaces, rules].sort());
    expect(edit.changes?.[rules]?.map((e: TextEdit) => e.range.start.line)).toEqual([0, 1]);
    await expect(request("textDocument/rename", { textDocument: { uri: rules }, position: { line: 1, character: 27 }, newName: "Cell" })).rejects.toThrow(
      /not a valid name/,
    );
    await expect(request("textDocument/rename", { textDocument: { uri: rules }, position: { line: 1, character: 27 }, newName: "wifi" })).rejects.toThrow(
      /already declared/,
    );
    await expect(request("textDocument/rename", { textDocument: { uri: rules }, position: { line: 1, character: 27 }, newName: "then" })).rejects.toThrow(
      /keyword/,
    );
  });

  it("formats as fmt does, as one edit of the lines that change, and refuses a file with syntax errors", async () => {
    const uri = policy.uri("30-more.policy");
    const text = 'on  iface_down   wifi then log "down"\n\n\n\non iface_up wifi then   log "up"\n';
    session.open(uri, text, 1);
    const edits = await request<TextEdit[]>("textDocument/formatting", { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });
    expect(edits).toEqual([
      {
        range: { start: { line: 0, character: 0 }, end: { line: 5, character: 0 } },
        newText: 'on iface_down wifi then log "down"\n\non iface_up wifi then log "up"\n',
      },
    ]);
    const broken = policy.uri("40-broken.policy");
    session.open(broken, "on iface_up wifi then\n", 1);
    expect(await request("textDocument/formatting", { textDocument: { uri: broken }, options: { tabSize: 2, insertSpaces: true } })).toBeNull();
  });

  it("checks a file that is not one of a directory's *.policy files as a policy of its own", async () => {
    const alone = "untitled:Untitled-1";
    const published = session.nextDiagnostics(alone);
    session.open(alone, "on established then create via wifi\n", 1);
    expect((await published).diagnostics.map(summary)).toEqual(["1:32-1:36 E100 interface 'wifi' is not declared"]);
  });

  it("highlights a name's uses in the file", async () => {
    const rules = policy.uri("20-rules.policy");
    const highlights = await request<{ range: { start: { line: number; character: number } } }[]>("textDocument/documentHighlight", {
      textDocument: { uri: rules },
      position: { line: 0, character: 28 },
    });
    expect(highlights.map((h) => `${h.range.start.line + 1}:${h.range.start.character + 1}`)).toEqual(["1:28", "2:13", "5:19"]);
  });

  it("watches the policy's files where the client can, and checks again when a closed one changes on disk", async () => {
    const watched = policyDir({ "10-interfaces.policy": INTERFACES, "20-rules.policy": RULES });
    const other = await startServer(["lsp"], { workspace: { didChangeWatchedFiles: { dynamicRegistration: true } } });
    try {
      const rules = watched.uri("20-rules.policy");
      const clean = other.nextDiagnostics(rules);
      other.open(rules, RULES);
      expect((await clean).diagnostics).toEqual([]);
      await other.connection.sendRequest("textDocument/hover", { textDocument: { uri: rules }, position: { line: 0, character: 0 } });
      expect(other.registrations).toEqual([
        { id: expect.any(String), method: "workspace/didChangeWatchedFiles", registerOptions: { watchers: [{ globPattern: "**/*.policy" }] } },
      ]);
      // Another program removes lte from the closed file.
      writeFileSync(join(watched.dir, "10-interfaces.policy"), INTERFACES.replace('interface lte = "wwan0", "usb*"\n', ""));
      const broken = other.nextDiagnostics(rules, (p) => p.diagnostics.length > 0);
      void other.connection.sendNotification("workspace/didChangeWatchedFiles", { changes: [{ uri: watched.uri("10-interfaces.policy"), type: 2 }] });
      expect((await broken).diagnostics.map(summary)).toEqual([
        "1:49-1:52 E100 interface 'lte' is not declared",
        "2:27-2:30 E100 interface 'lte' is not declared",
      ]);
    } finally {
      await other.stop();
      watched.remove();
    }
  });

  it("knows an open file however the client spells its URI (VS Code escapes '@', '+', ' ')", async () => {
    const odd = policyDir({});
    const dir = join(odd.dir, "my policy@2+x");
    mkdirSync(dir);
    writeFileSync(join(dir, "10-interfaces.policy"), INTERFACES);
    writeFileSync(join(dir, "20-rules.policy"), RULES);
    const escaped = `file://${join(dir, "20-rules.policy").split("/").map(encodeURIComponent).join("/")}`;
    expect(escaped).toContain("my%20policy%402%2Bx");
    try {
      // The editor's text, not the disk's, is what is checked: the typo is only in the editor.
      const published = session.nextDiagnostics(escaped, (p) => p.diagnostics.length > 0);
      session.open(escaped, RULES.replace("via lte", "via lt"));
      expect((await published).diagnostics.map(summary)).toEqual(["1:49-1:51 E100 interface 'lt' is not declared"]);
      const definition = await request<Location[]>("textDocument/definition", { textDocument: { uri: escaped }, position: { line: 1, character: 27 } });
      expect(definition.map((l) => [decodeURIComponent(l.uri).endsWith("my policy@2+x/10-interfaces.policy"), l.range.start.line])).toEqual([[true, 2]]);
      void session.connection.sendNotification("textDocument/didClose", { textDocument: { uri: escaped } });
    } finally {
      odd.remove();
    }
  });

  it("exits on shutdown and exit with status 0", async () => {
    const other = await startServer();
    const status = new Promise<number | null>((resolve) => other.process.once("exit", (code) => resolve(code)));
    await other.stop();
    expect(await status).toBe(0);
  });
});
