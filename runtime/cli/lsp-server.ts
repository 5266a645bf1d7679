// The language server behind `mptcp-policy lsp`: the language service
// (language/service/) over the Language Server Protocol on stdio, through
// vscode-languageserver. What is Node's here and nowhere else: files on disk and
// which policy a file belongs to. A file's policy is its directory when the file is
// one of the directory's *.policy files (as `check DIR` reads them), so a name
// declared in 10-interfaces.policy resolves in 20-rules.policy; any other document
// is a policy of its own. Open documents count with their editor text, the other
// files of the directory with their text on disk.
//
// Documents are synced incrementally. A change is checked as soon as the messages
// that arrived with it are read (changes are coalesced, never debounced), and the
// diagnostics of every file of the policy are published; a request is answered on
// the newest text.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  CodeActionKind,
  CompletionItemKind,
  createConnection,
  DiagnosticSeverity,
  DidChangeWatchedFilesNotification,
  DocumentHighlightKind,
  DocumentSymbol,
  ResponseError,
  ErrorCodes,
  MessageType,
  ShowMessageNotification,
  SymbolKind,
  TextDocuments,
  TextDocumentSyncKind,
  type CodeAction,
  type CompletionItem as LspCompletionItem,
  type Connection,
  type Diagnostic as LspDiagnostic,
  type InitializeResult,
  type Location as LspLocation,
  type Range,
  type TextEdit as LspTextEdit,
  type WorkspaceEdit,
} from "vscode-languageserver/node";
import { TextDocument } from "vscode-languageserver-textdocument";
import {
  analyzePolicy,
  completionAt,
  definitionAt,
  diagnosticsOf,
  formatText,
  hoverAt,
  lineEdit,
  outlineAt,
  quickFixes,
  rangeIn,
  referencesAt,
  renameAt,
  renameTarget,
  semanticTokens,
  TOKEN_MODIFIERS,
  TOKEN_TYPES,
  type Analysis,
  type ItemKind,
  type Location,
  type OutlineItem,
  type OutlineKind,
  type Position,
} from "../../language/service/index.js";
import { sourceFile } from "../../language/source.js";
import { MAX_FILE_BYTES } from "./load-policies.js";

/** One policy: a directory's *.policy files, or one document alone. */
interface Policy {
  readonly key: string;
  /** The directory whose *.policy files form the policy; none for a document alone. */
  readonly dir: string | undefined;
  /** File name (as the checker sees it) → URI, for the last analysis. */
  uris: Map<string, string>;
  analysis: Analysis | undefined;
  /** Set by a change; the next request or check analyses again. */
  dirty: boolean;
  /** Set by a change; cleared when the diagnostics are published. */
  unpublished: boolean;
  /** URIs that were given diagnostics last time, to clear the ones that have none now. */
  published: Set<string>;
}

const KIND_OF_ITEM: Readonly<Record<ItemKind, CompletionItemKind>> = {
  keyword: CompletionItemKind.Keyword,
  event: CompletionItemKind.Event,
  interface: CompletionItemKind.Interface,
  scheduler: CompletionItemKind.Class,
  metric: CompletionItemKind.Property,
  unit: CompletionItemKind.Unit,
  value: CompletionItemKind.EnumMember,
  flag: CompletionItemKind.Constant,
};

const KIND_OF_SYMBOL: Readonly<Record<OutlineKind, SymbolKind>> = {
  interface: SymbolKind.Interface,
  limits: SymbolKind.Constant,
  endpoint: SymbolKind.Object,
  rule: SymbolKind.Event,
  scheduler: SymbolKind.Class,
  step: SymbolKind.Function,
  selection: SymbolKind.Module,
  zone: SymbolKind.Namespace,
};

function isPolicyFileName(name: string): boolean {
  return name.endsWith(".policy") && !name.startsWith(".");
}

function pathOf(uri: string): string | undefined {
  if (!uri.startsWith("file:")) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}

/** The text of a file on disk, read again only when its size or time changed. */
class DiskCache {
  private readonly entries = new Map<string, { mtimeMs: number; size: number; text: string | undefined }>();

  /** The *.policy files of a directory, as `check DIR` finds them. */
  policyFiles(dir: string): string[] {
    try {
      return readdirSync(dir, { withFileTypes: true })
        .filter((e) => (e.isFile() || e.isSymbolicLink()) && isPolicyFileName(e.name))
        .map((e) => e.name)
        .sort();
    } catch {
      return [];
    }
  }

  text(path: string): string | undefined {
    let stats;
    try {
      stats = statSync(path);
    } catch {
      this.entries.delete(path);
      return undefined;
    }
    const cached = this.entries.get(path);
    if (cached && cached.mtimeMs === stats.mtimeMs && cached.size === stats.size) return cached.text;
    let text: string | undefined;
    try {
      text = stats.size > MAX_FILE_BYTES ? undefined : new TextDecoder("utf-8", { fatal: true }).decode(readFileSync(path));
    } catch {
      text = undefined;
    }
    this.entries.set(path, { mtimeMs: stats.mtimeMs, size: stats.size, text });
    return text;
  }
}

function lspRange(at: Location): Range {
  return { start: { line: at.line - 1, character: at.column - 1 }, end: { line: at.endLine - 1, character: at.endColumn - 1 } };
}

function servicePosition(at: { line: number; character: number }): Position {
  return { line: at.line + 1, column: at.character + 1 };
}

export function startLanguageServer(input: NodeJS.ReadableStream = process.stdin, output: NodeJS.WritableStream = process.stdout): Connection {
  const connection = createConnection(input, output);
  const documents = new TextDocuments(TextDocument);
  const disk = new DiskCache();
  const policies = new Map<string, Policy>();
  let checkQueued = false;

  /** The policy a document belongs to, made on first use. */
  function policyOf(uri: string): Policy {
    const path = pathOf(uri);
    const dir = path !== undefined && isPolicyFileName(basename(path)) ? dirname(path) : undefined;
    const key = dir ?? uri;
    let policy = policies.get(key);
    if (!policy) {
      policy = { key, dir, uris: new Map(), analysis: undefined, dirty: true, unpublished: true, published: new Set() };
      policies.set(key, policy);
    }
    return policy;
  }

  /** The files of a policy now: open documents with their text, the others from disk. */
  function filesOf(policy: Policy): { name: string; text: string; uri: string }[] {
    if (policy.dir === undefined) {
      const document = documents.get(policy.key);
      const path = pathOf(policy.key);
      return document ? [{ name: path !== undefined ? basename(path) : policy.key, text: document.getText(), uri: policy.key }] : [];
    }
    const dir = policy.dir;
    // Open documents by their path: clients spell URIs their own way (VS Code escapes
    // more than Node does), so a URI made here may not be the editor's.
    const open = new Map<string, TextDocument>();
    for (const document of documents.all()) {
      const path = pathOf(document.uri);
      if (path !== undefined && dirname(path) === dir && isPolicyFileName(basename(path))) open.set(basename(path), document);
    }
    const files = new Map<string, { name: string; text: string; uri: string }>();
    for (const name of disk.policyFiles(dir)) {
      const document = open.get(name);
      const text = document ? document.getText() : disk.text(join(dir, name));
      if (text !== undefined) files.set(name, { name, text, uri: document?.uri ?? pathToFileURL(join(dir, name)).href });
    }
    // Open documents not on disk (yet) are part of it too.
    for (const [name, document] of open) if (!files.has(name)) files.set(name, { name, text: document.getText(), uri: document.uri });
    return [...files.values()];
  }

  function analysed(policy: Policy): Analysis {
    if (policy.dirty || policy.analysis === undefined) {
      const files = filesOf(policy);
      policy.uris = new Map(files.map((f) => [f.name, f.uri]));
      policy.analysis = analyzePolicy(files);
      policy.dirty = false;
    }
    return policy.analysis;
  }

  /** The document's policy, analysed, and the document's name in it. */
  function at(uri: string): { policy: Policy; analysis: Analysis; file: string } {
    const policy = policyOf(uri);
    const analysis = analysed(policy);
    const file = [...policy.uris].find(([, u]) => u === uri)?.[0] ?? basename(pathOf(uri) ?? uri);
    return { policy, analysis, file };
  }

  function lspLocation(policy: Policy, location: Location): LspLocation | undefined {
    const uri = policy.uris.get(location.file);
    return uri === undefined ? undefined : { uri, range: lspRange(location) };
  }

  function publish(policy: Policy): void {
    const analysis = analysed(policy);
    const byUri = new Map<string, LspDiagnostic[]>([...policy.uris.values()].map((uri) => [uri, []]));
    for (const d of diagnosticsOf(analysis)) {
      const uri = policy.uris.get(d.file);
      if (uri === undefined) continue;
      byUri.get(uri)?.push({
        range: lspRange(d),
        severity: d.severity === "error" ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
        code: d.code,
        source: "mptcp-policy",
        message: [d.message, ...d.hints.map((h) => `hint: ${h}`)].join("\n"),
        relatedInformation: d.related.flatMap((r) => {
          const location = lspLocation(policy, r);
          return location ? [{ location, message: r.message }] : [];
        }),
      });
    }
    for (const uri of policy.published) if (!byUri.has(uri)) byUri.set(uri, []);
    for (const [uri, diagnostics] of byUri) {
      const version = documents.get(uri)?.version;
      void connection.sendDiagnostics({ uri, ...(version !== undefined ? { version } : {}), diagnostics });
    }
    policy.published = new Set([...byUri].filter(([, list]) => list.length > 0).map(([uri]) => uri));
  }

  /** Check every changed policy once the messages already read are handled. */
  function queueCheck(policy: Policy): void {
    policy.dirty = true;
    policy.unpublished = true;
    if (checkQueued) return;
    checkQueued = true;
    // A timer, not setImmediate: the protocol's connection hands over one message per
    // turn of the event loop, so keys that arrived together are all read before it fires.
    setTimeout(() => {
      checkQueued = false;
      for (const p of policies.values()) {
        if (!p.unpublished) continue;
        p.unpublished = false;
        try {
          publish(p);
        } catch (cause) {
          connection.console.error(`mptcp-policy lsp: ${(cause as Error).stack ?? String(cause)}`);
        }
      }
    }, 0);
  }

  let watchFiles = false;
  connection.onInitialize((params): InitializeResult => {
    watchFiles = params.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration === true;
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
        completionProvider: { triggerCharacters: [" ", "(", ","], resolveProvider: false },
        hoverProvider: true,
        documentFormattingProvider: true,
        definitionProvider: true,
        referencesProvider: true,
        renameProvider: { prepareProvider: true },
        documentSymbolProvider: true,
        documentHighlightProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        semanticTokensProvider: { legend: { tokenTypes: [...TOKEN_TYPES], tokenModifiers: [...TOKEN_MODIFIERS] }, full: true },
      },
      serverInfo: { name: "mptcp-policy" },
    };
  });
  // Files of a policy that are not open change on disk too: where the client can watch
  // them, it says so (Neovim 0.7 cannot; a change of an open file, a save or an open
  // reads the directory again anyway).
  connection.onInitialized(() => {
    if (watchFiles) void connection.client.register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: "**/*.policy" }] });
  });

  documents.onDidChangeContent((event) => queueCheck(policyOf(event.document.uri)));
  documents.onDidSave((event) => queueCheck(policyOf(event.document.uri)));
  documents.onDidClose((event) => {
    const policy = policyOf(event.document.uri);
    const stillOpen = documents.all().some((d) => d.uri !== event.document.uri && policyOf(d.uri) === policy);
    if (stillOpen) {
      // The closed file counts with its text on disk again.
      queueCheck(policy);
      return;
    }
    for (const uri of policy.published) void connection.sendDiagnostics({ uri, diagnostics: [] });
    policies.delete(policy.key);
  });
  connection.onDidChangeWatchedFiles(() => {
    for (const policy of policies.values()) queueCheck(policy);
  });

  connection.onCompletion((params) => {
    const { analysis, file } = at(params.textDocument.uri);
    const position = servicePosition(params.position);
    const { items, word } = completionAt(analysis, file, position);
    const text = analysis.texts.get(file) ?? "";
    const line = text.split("\n")[position.line - 1] ?? "";
    const typed = line.slice(word.start - 1, word.end - 1).toLowerCase();
    const range: Range = { start: { line: params.position.line, character: word.start - 1 }, end: params.position };
    return items
      .filter((item) => (item.insertText ?? item.label).toLowerCase().startsWith(typed))
      .map((item, i): LspCompletionItem => ({
        label: item.label,
        kind: KIND_OF_ITEM[item.kind],
        detail: item.detail,
        ...(item.documentation !== undefined ? { documentation: { kind: "markdown", value: item.documentation } } : {}),
        textEdit: { range, newText: item.insertText ?? item.label },
        sortText: String(i).padStart(4, "0"),
      }));
  });

  connection.onHover((params) => {
    const { analysis, file } = at(params.textDocument.uri);
    const hover = hoverAt(analysis, file, servicePosition(params.position));
    return hover ? { contents: { kind: "markdown", value: hover.markdown }, range: lspRange(hover.range) } : null;
  });

  connection.onDocumentFormatting((params): LspTextEdit[] | null => {
    const document = documents.get(params.textDocument.uri);
    if (!document) return null;
    const text = document.getText();
    const name = basename(pathOf(document.uri) ?? document.uri);
    const formatted = formatText({ name, text });
    if ("error" in formatted) {
      // A notification: the editor shows it, nothing waits for an answer.
      void connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Warning, message: formatted.error });
      return null;
    }
    const edit = lineEdit(text, formatted.text);
    if (edit === undefined) return [];
    const source = sourceFile(name, text);
    return [{ range: lspRange(rangeIn(source, edit.start, edit.end)), newText: edit.newText }];
  });

  connection.onDefinition((params) => {
    const { policy, analysis, file } = at(params.textDocument.uri);
    return definitionAt(analysis, file, servicePosition(params.position)).flatMap((l) => lspLocation(policy, l) ?? []);
  });

  connection.onReferences((params) => {
    const { policy, analysis, file } = at(params.textDocument.uri);
    return referencesAt(analysis, file, servicePosition(params.position), params.context.includeDeclaration).flatMap((l) => lspLocation(policy, l) ?? []);
  });

  connection.onDocumentHighlight((params) => {
    const { analysis, file } = at(params.textDocument.uri);
    const here = referencesAt(analysis, file, servicePosition(params.position)).filter((l) => l.file === file);
    return here.map((l) => ({ range: lspRange(l), kind: DocumentHighlightKind.Text }));
  });

  connection.onPrepareRename((params) => {
    const { analysis, file } = at(params.textDocument.uri);
    const target = renameTarget(analysis, file, servicePosition(params.position));
    return target ? { range: lspRange(target.range), placeholder: target.name } : null;
  });

  connection.onRenameRequest((params): WorkspaceEdit => {
    const { policy, analysis, file } = at(params.textDocument.uri);
    const result = renameAt(analysis, file, servicePosition(params.position), params.newName);
    if ("error" in result) throw new ResponseError(ErrorCodes.InvalidRequest, result.error);
    const changes: Record<string, LspTextEdit[]> = {};
    for (const edit of result.edits) {
      const uri = policy.uris.get(edit.range.file);
      if (uri !== undefined) (changes[uri] ??= []).push({ range: lspRange(edit.range), newText: edit.newText });
    }
    return { changes };
  });

  connection.onDocumentSymbol((params) => {
    const { analysis, file } = at(params.textDocument.uri);
    const symbol = (item: OutlineItem): DocumentSymbol =>
      DocumentSymbol.create(item.name, item.detail, KIND_OF_SYMBOL[item.kind], lspRange(item.range), lspRange(item.selectionRange), item.children.map(symbol));
    return outlineAt(analysis, file).map(symbol);
  });

  connection.onCodeAction((params): CodeAction[] => {
    const { analysis, file } = at(params.textDocument.uri);
    const range = { line: params.range.start.line + 1, endLine: params.range.end.line + 1 };
    return quickFixes(analysis, file, range).map((fix) => ({
      title: fix.title,
      kind: CodeActionKind.QuickFix,
      isPreferred: true,
      diagnostics: params.context.diagnostics.filter((d) => d.code === fix.diagnostic.code && d.range.start.line === fix.diagnostic.line - 1),
      edit: { changes: { [params.textDocument.uri]: [{ range: lspRange(fix.range), newText: fix.newText }] } },
    }));
  });

  connection.languages.semanticTokens.on((params) => {
    const { analysis, file } = at(params.textDocument.uri);
    const data: number[] = [];
    let line = 0;
    let character = 0;
    for (const token of semanticTokens(analysis, file)) {
      const l = token.line - 1;
      const c = token.column - 1;
      data.push(l - line, l === line ? c - character : c, token.length, TOKEN_TYPES.indexOf(token.type), token.declaration ? 1 : 0);
      line = l;
      character = c;
    }
    return { data };
  });

  documents.listen(connection);
  connection.listen();
  return connection;
}
