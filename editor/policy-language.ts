// The policy language in Monaco: highlighting generated from the lexer's tokens
// (monarch.ts), completion and hover from the language service (language/service/,
// the same as `mptcp-policy lsp`), format with the real formatter (asked of the
// check worker), and the two themes.
import { completionsAt, hoverText, inCommentOrString, WORD_PATTERN, type ItemKind } from "../language/service/index.js";
import { LANGUAGE_ID, monarchDefinition } from "./monarch.js";
import { monaco } from "./monaco.js";
import type { DeclaredNames, Location, OutlineItem, QuickFix, RenameResult } from "../language/service/index.js";
import type { ServiceRequest } from "./protocol.js";

export interface LanguageHooks {
  /** The names the last check found, for completion and hover. */
  names(): DeclaredNames;
  /** The formatted text of a model, or a reason it cannot be formatted. */
  format(model: monaco.editor.ITextModel): Promise<string | undefined>;
  /** The policy file a model holds, if it is one. */
  fileOf(model: monaco.editor.ITextModel): string | undefined;
  /** The model URI of a policy file. */
  uriOf(file: string): monaco.Uri;
  /** The language service's answer (in the check worker), on the current text. */
  serve<T>(request: ServiceRequest): Promise<T>;
}

function range(at: Location): monaco.IRange {
  return { startLineNumber: at.line, startColumn: at.column, endLineNumber: at.endLine, endColumn: at.endColumn };
}

const SYMBOL_KIND: Record<OutlineItem["kind"], monaco.languages.SymbolKind> = {
  interface: monaco.languages.SymbolKind.Interface,
  limits: monaco.languages.SymbolKind.Constant,
  endpoint: monaco.languages.SymbolKind.Object,
  rule: monaco.languages.SymbolKind.Event,
  scheduler: monaco.languages.SymbolKind.Class,
  step: monaco.languages.SymbolKind.Function,
  selection: monaco.languages.SymbolKind.Module,
  zone: monaco.languages.SymbolKind.Namespace,
};

const KIND: Record<ItemKind, monaco.languages.CompletionItemKind> = {
  keyword: monaco.languages.CompletionItemKind.Keyword,
  event: monaco.languages.CompletionItemKind.Event,
  interface: monaco.languages.CompletionItemKind.Interface,
  scheduler: monaco.languages.CompletionItemKind.Class,
  metric: monaco.languages.CompletionItemKind.Property,
  unit: monaco.languages.CompletionItemKind.Unit,
  value: monaco.languages.CompletionItemKind.EnumMember,
  flag: monaco.languages.CompletionItemKind.Constant,
};

export function registerPolicyLanguage(hooks: LanguageHooks): void {
  monaco.languages.register({ id: LANGUAGE_ID, extensions: [".policy"], aliases: ["MPTCP policy", "policy"] });
  monaco.languages.setMonarchTokensProvider(LANGUAGE_ID, monarchDefinition() as unknown as monaco.languages.IMonarchLanguage);
  monaco.languages.setLanguageConfiguration(LANGUAGE_ID, {
    comments: { lineComment: "#" },
    brackets: [
      ["{", "}"],
      ["(", ")"],
    ],
    autoClosingPairs: [
      { open: "{", close: "}" },
      { open: "(", close: ")" },
      { open: '"', close: '"', notIn: ["string", "comment"] },
    ],
    surroundingPairs: [
      { open: "(", close: ")" },
      { open: '"', close: '"' },
    ],
    indentationRules: { increaseIndentPattern: /\{\s*(#.*)?$/, decreaseIndentPattern: /^\s*\}/ },
    wordPattern: WORD_PATTERN,
  });

  monaco.languages.registerCompletionItemProvider(LANGUAGE_ID, {
    triggerCharacters: [" ", "(", ","],
    provideCompletionItems(model, position) {
      const textBefore = model.getValueInRange({ startLineNumber: 1, startColumn: 1, endLineNumber: position.lineNumber, endColumn: position.column });
      // No completion inside a comment or a string.
      const line = model.getLineContent(position.lineNumber).slice(0, position.column - 1);
      if (inCommentOrString(line)) return { suggestions: [] };
      const word = model.getWordUntilPosition(position);
      const range = { startLineNumber: position.lineNumber, endLineNumber: position.lineNumber, startColumn: word.startColumn, endColumn: word.endColumn };
      const items = completionsAt(textBefore, hooks.names());
      return {
        suggestions: items.map((item, i) => ({
          label: { label: item.label, description: item.detail },
          kind: KIND[item.kind],
          detail: item.detail,
          ...(item.documentation !== undefined ? { documentation: { value: item.documentation } } : {}),
          insertText: item.insertText ?? item.label,
          range,
          sortText: String(i).padStart(4, "0"),
        })),
      };
    },
  });

  monaco.languages.registerHoverProvider(LANGUAGE_ID, {
    provideHover(model, position) {
      const word = model.getWordAtPosition(position);
      if (!word) return null;
      const text = hoverText(word.word, hooks.names());
      if (text === undefined) return null;
      return {
        range: { startLineNumber: position.lineNumber, endLineNumber: position.lineNumber, startColumn: word.startColumn, endColumn: word.endColumn },
        contents: [{ value: text }],
      };
    },
  });

  monaco.languages.registerDocumentFormattingEditProvider(LANGUAGE_ID, {
    displayName: "mptcp-policy fmt",
    async provideDocumentFormattingEdits(model) {
      const text = await hooks.format(model);
      if (text === undefined || text === model.getValue()) return [];
      return [{ range: model.getFullModelRange(), text }];
    },
  });

  registerNavigation(hooks);
  defineThemes();
}

/**
 * Go to definition, references, highlights, rename, the outline and the checker's
 * quick fixes: the language service's answers, as `mptcp-policy lsp` gives them.
 */
function registerNavigation(hooks: LanguageHooks): void {
  const at = (model: monaco.editor.ITextModel, position: monaco.Position) => {
    const file = hooks.fileOf(model);
    return file === undefined ? undefined : { file, position: { line: position.lineNumber, column: position.column } };
  };
  const locations = (list: readonly Location[]): monaco.languages.Location[] => list.map((l) => ({ uri: hooks.uriOf(l.file), range: range(l) }));

  monaco.languages.registerDefinitionProvider(LANGUAGE_ID, {
    async provideDefinition(model, position) {
      const where = at(model, position);
      return where ? locations(await hooks.serve<Location[]>({ kind: "definition", ...where })) : [];
    },
  });
  monaco.languages.registerReferenceProvider(LANGUAGE_ID, {
    async provideReferences(model, position) {
      const where = at(model, position);
      return where ? locations(await hooks.serve<Location[]>({ kind: "references", ...where })) : [];
    },
  });
  monaco.languages.registerDocumentHighlightProvider(LANGUAGE_ID, {
    async provideDocumentHighlights(model, position) {
      const where = at(model, position);
      if (!where) return [];
      const here = await hooks.serve<Location[]>({ kind: "highlights", ...where });
      return here.map((l) => ({ range: range(l), kind: monaco.languages.DocumentHighlightKind.Text }));
    },
  });
  monaco.languages.registerRenameProvider(LANGUAGE_ID, {
    async resolveRenameLocation(model, position) {
      const where = at(model, position);
      const target = where ? await hooks.serve<{ name: string; range: Location } | null>({ kind: "renameTarget", ...where }) : null;
      if (!target)
        return {
          range: { startLineNumber: position.lineNumber, startColumn: position.column, endLineNumber: position.lineNumber, endColumn: position.column },
          text: "",
          rejectReason: "Only declared interface and scheduler names can be renamed",
        };
      return { range: range(target.range), text: target.name };
    },
    async provideRenameEdits(model, position, newName) {
      const where = at(model, position);
      if (!where) return { edits: [] };
      const result = await hooks.serve<RenameResult>({ kind: "rename", ...where, newName });
      if ("error" in result) return { edits: [], rejectReason: result.error };
      return {
        edits: result.edits.map((e) => ({ resource: hooks.uriOf(e.range.file), textEdit: { range: range(e.range), text: e.newText }, versionId: undefined })),
      };
    },
  });
  monaco.languages.registerDocumentSymbolProvider(LANGUAGE_ID, {
    displayName: "mptcp-policy",
    async provideDocumentSymbols(model) {
      const file = hooks.fileOf(model);
      if (file === undefined) return [];
      const symbol = (item: OutlineItem): monaco.languages.DocumentSymbol => ({
        name: item.name,
        detail: item.detail,
        kind: SYMBOL_KIND[item.kind],
        tags: [],
        range: range(item.range),
        selectionRange: range(item.selectionRange),
        children: item.children.map(symbol),
      });
      return (await hooks.serve<OutlineItem[]>({ kind: "outline", file })).map(symbol);
    },
  });
  monaco.languages.registerCodeActionProvider(LANGUAGE_ID, {
    async provideCodeActions(model, selection) {
      const file = hooks.fileOf(model);
      if (file === undefined) return { actions: [], dispose: () => undefined };
      const fixes = await hooks.serve<QuickFix[]>({ kind: "quickFixes", file, line: selection.startLineNumber, endLine: selection.endLineNumber });
      const markers = monaco.editor.getModelMarkers({ resource: model.uri });
      return {
        actions: fixes.map((fix) => ({
          title: fix.title,
          kind: "quickfix",
          isPreferred: true,
          diagnostics: markers.filter(
            (m) => String(m.code) === fix.diagnostic.code && m.startLineNumber === fix.diagnostic.line && m.startColumn === fix.diagnostic.column,
          ),
          edit: { edits: [{ resource: model.uri, textEdit: { range: range(fix.range), text: fix.newText }, versionId: model.getVersionId() }] },
        })),
        dispose: () => undefined,
      };
    },
  });
}

/** Each token class's colour in the light and the dark theme, and its font style. */
const TOKEN_COLOURS: readonly (readonly [token: string, light: string, dark: string, fontStyle?: string])[] = [
  ["keyword", "7c3aed", "c4b5fd", "bold"],
  ["type.event", "0f766e", "5eead4", "bold"],
  ["variable.metric", "b45309", "fcd34d"],
  ["constant", "0369a1", "7dd3fc"],
  ["identifier", "1f2937", "e2e8f0"],
  ["number", "c2410c", "fdba74"],
  ["number.address", "be185d", "f9a8d4"],
  ["string", "15803d", "86efac"],
  ["string.invalid", "dc2626", "f87171", "underline"],
  ["comment", "6b7280", "7c8798", "italic"],
  ["operator", "475569", "cbd5e1"],
  ["delimiter", "64748b", "94a3b8"],
  ["invalid", "dc2626", "f87171"],
];

function tokenRules(theme: "light" | "dark"): monaco.editor.ITokenThemeRule[] {
  return TOKEN_COLOURS.map(([token, light, dark, fontStyle]) => ({ token, foreground: theme === "light" ? light : dark, ...(fontStyle ? { fontStyle } : {}) }));
}

/** Colours tuned for the policy's token classes, on top of Monaco's own themes. */
function defineThemes(): void {
  monaco.editor.defineTheme("policy-light", {
    base: "vs",
    inherit: true,
    rules: tokenRules("light"),
    colors: {
      "editor.background": "#ffffff",
      "editor.lineHighlightBackground": "#f4f6fb",
      "editorLineNumber.foreground": "#a3acb9",
      "editorLineNumber.activeForeground": "#334155",
      "editorGutter.background": "#ffffff",
      "editor.selectionBackground": "#c7d7fe",
      "editorIndentGuide.background1": "#eef1f5",
    },
  });
  monaco.editor.defineTheme("policy-dark", {
    base: "vs-dark",
    inherit: true,
    rules: tokenRules("dark"),
    colors: {
      "editor.background": "#161a21",
      "editor.lineHighlightBackground": "#1d222b",
      "editorLineNumber.foreground": "#4b5565",
      "editorLineNumber.activeForeground": "#cbd5e1",
      "editorGutter.background": "#161a21",
      "editor.selectionBackground": "#334a7a",
      "editorIndentGuide.background1": "#232935",
    },
  });
}
