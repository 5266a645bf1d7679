// The policy language in Monaco: highlighting generated from the lexer's tokens
// (monarch.ts), completion and hover from the vocabulary (completion.ts), format with
// the real formatter (asked of the check worker), and the two themes.
import { completionsAt, hoverText, type ItemKind } from "./completion.js";
import { LANGUAGE_ID, monarchDefinition } from "./monarch.js";
import { monaco } from "./monaco.js";
import type { DeclaredNames } from "./protocol.js";

export interface LanguageHooks {
  /** The names the last check found, for completion and hover. */
  names(): DeclaredNames;
  /** The formatted text of a model, or a reason it cannot be formatted. */
  format(model: monaco.editor.ITextModel): Promise<string | undefined>;
}

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
    wordPattern: /-?\d+(?:\.\d+)?[A-Za-z_]*|[A-Za-z_][A-Za-z0-9_]*/,
  });

  monaco.languages.registerCompletionItemProvider(LANGUAGE_ID, {
    triggerCharacters: [" ", "(", ","],
    provideCompletionItems(model, position) {
      const textBefore = model.getValueInRange({ startLineNumber: 1, startColumn: 1, endLineNumber: position.lineNumber, endColumn: position.column });
      // No completion inside a comment or a string.
      const line = model.getLineContent(position.lineNumber).slice(0, position.column - 1);
      if (/#/.test(line.replace(/"(?:[^"\\]|\\.)*"/g, "")) || (line.match(/"/g)?.length ?? 0) % 2 === 1) return { suggestions: [] };
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

  defineThemes();
}

/** Colours tuned for the policy's token classes, on top of Monaco's own themes. */
function defineThemes(): void {
  monaco.editor.defineTheme("policy-light", {
    base: "vs",
    inherit: true,
    rules: [
      { token: "keyword", foreground: "7c3aed", fontStyle: "bold" },
      { token: "type.event", foreground: "0f766e", fontStyle: "bold" },
      { token: "variable.metric", foreground: "b45309" },
      { token: "constant", foreground: "0369a1" },
      { token: "identifier", foreground: "1f2937" },
      { token: "number", foreground: "c2410c" },
      { token: "number.address", foreground: "be185d" },
      { token: "string", foreground: "15803d" },
      { token: "string.invalid", foreground: "dc2626", fontStyle: "underline" },
      { token: "comment", foreground: "6b7280", fontStyle: "italic" },
      { token: "operator", foreground: "475569" },
      { token: "delimiter", foreground: "64748b" },
      { token: "invalid", foreground: "dc2626" },
    ],
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
    rules: [
      { token: "keyword", foreground: "c4b5fd", fontStyle: "bold" },
      { token: "type.event", foreground: "5eead4", fontStyle: "bold" },
      { token: "variable.metric", foreground: "fcd34d" },
      { token: "constant", foreground: "7dd3fc" },
      { token: "identifier", foreground: "e2e8f0" },
      { token: "number", foreground: "fdba74" },
      { token: "number.address", foreground: "f9a8d4" },
      { token: "string", foreground: "86efac" },
      { token: "string.invalid", foreground: "f87171", fontStyle: "underline" },
      { token: "comment", foreground: "7c8798", fontStyle: "italic" },
      { token: "operator", foreground: "cbd5e1" },
      { token: "delimiter", foreground: "94a3b8" },
      { token: "invalid", foreground: "f87171" },
    ],
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
