// Highlighting from the real lexer and the vocabulary, for every host: the classes of
// words (keywords, events, metrics, constants) that Monaco's Monarch rules use
// (editor/monarch.ts), semantic tokens for LSP clients (declared interface and
// scheduler names told apart from other names by the symbol index), and a TextMate
// grammar for editors that colour without a server (editors/vscode/). Pure.
import { tokenize } from "../lexer.js";
import { sourceFile } from "../source.js";
import { ENDPOINT_FLAGS, ERRNO_NAMES, EVENTS, FAMILIES, KEYWORDS, LIMIT_NAMES, METRICS, SIDES, SUBFLOW_FLAG_CONDITIONS, UNITS } from "../vocabulary.js";
import type { Analysis } from "./analysis.js";

/** Words with a meaning where they stand (not reserved), and their class. */
export const WORD_CLASSES = {
  keywords: KEYWORDS,
  events: EVENTS.map((e) => e.name),
  metrics: METRICS.map((m) => m.name),
  constants: [
    ...ENDPOINT_FLAGS.map((f) => f.name),
    ...FAMILIES,
    ...SIDES,
    ...SUBFLOW_FLAG_CONDITIONS,
    ...ERRNO_NAMES.keys(),
    ...LIMIT_NAMES.map((l) => l.name),
    "announced",
  ],
} as const;

/** Semantic token types, in the order of the legend (LSP's standard names). */
export const TOKEN_TYPES = ["keyword", "event", "property", "enumMember", "interface", "class", "variable", "number", "string", "comment", "operator"] as const;
export type TokenTypeName = (typeof TOKEN_TYPES)[number];
export const TOKEN_MODIFIERS = ["declaration"] as const;

export interface SemanticToken {
  /** 1-based line and column; tokens never span lines. */
  readonly line: number;
  readonly column: number;
  readonly length: number;
  readonly type: TokenTypeName;
  readonly declaration: boolean;
}

/**
 * The highlighting class of each lexer token, by chevrotain token name: the
 * playground's Monarch classes (editor/monarch.ts), and, by their first part, the
 * semantic token types. Words (identifiers, keywords) are classed by WORD_CLASSES.
 */
export const TOKEN_CLASSES: Readonly<Record<string, string>> = {
  WhiteSpace: "white",
  Comment: "comment",
  TerminatedString: "string",
  UnterminatedString: "string.invalid",
  Address6: "number.address",
  Address4: "number.address",
  Number: "number",
  LBrace: "delimiter.bracket",
  RBrace: "delimiter.bracket",
  LParen: "delimiter.parenthesis",
  RParen: "delimiter.parenthesis",
  Comma: "delimiter",
  LessEqual: "operator",
  Less: "operator",
  GreaterEqual: "operator",
  Greater: "operator",
  EqualEqual: "operator",
  NotEqual: "operator",
  Equals: "operator",
};

/** The semantic token type of a highlighting class; delimiters and white space have none. */
function typeOfClass(cls: string | undefined): TokenTypeName | undefined {
  const head = cls?.split(".")[0];
  return head === "string" || head === "number" || head === "operator" || head === "comment" ? head : undefined;
}

function wordType(word: string): TokenTypeName | undefined {
  if ((WORD_CLASSES.events as readonly string[]).includes(word)) return "event";
  if ((WORD_CLASSES.metrics as readonly string[]).includes(word)) return "property";
  if ((WORD_CLASSES.constants as readonly string[]).includes(word)) return "enumMember";
  return undefined;
}

/** The tokens of a file in source order: what the lexer reads, classified. */
export function semanticTokens(analysis: Analysis, file: string): SemanticToken[] {
  const text = analysis.texts.get(file) ?? "";
  const source = analysis.trees.get(file)?.file ?? sourceFile(file, text);
  const lexed = tokenize(source);
  const symbols = new Map((analysis.symbols.occurrences.get(file) ?? []).map((o) => [o.span.start, o]));
  const raw: { start: number; length: number; type: TokenTypeName; declaration: boolean }[] = [];
  for (const token of lexed.tokens) {
    const name = token.tokenType.name;
    let type: TokenTypeName | undefined;
    let declaration = false;
    if (name.startsWith("kw_")) type = "keyword";
    else if (name === "Identifier") {
      const symbol = symbols.get(token.startOffset);
      if (symbol !== undefined) {
        type = symbol.kind === "interface" ? "interface" : "class";
        declaration = symbol.declaration;
      } else type = wordType(token.image) ?? "variable";
    } else type = typeOfClass(TOKEN_CLASSES[name]);
    if (type !== undefined) raw.push({ start: token.startOffset, length: token.image.length, type, declaration });
  }
  for (const comment of lexed.comments)
    raw.push({ start: comment.span.start, length: comment.span.end - comment.span.start, type: "comment", declaration: false });
  raw.sort((a, b) => a.start - b.start);
  const starts = source.lineStarts();
  const out: SemanticToken[] = [];
  let line = 0;
  for (const t of raw) {
    while (line + 1 < starts.length && (starts[line + 1] as number) <= t.start) line++;
    out.push({ line: line + 1, column: t.start - (starts[line] as number) + 1, length: t.length, type: t.type, declaration: t.declaration });
  }
  return out;
}

function alternation(words: readonly string[]): string {
  return [...words].sort((a, b) => b.length - a.length).join("|");
}

/**
 * A TextMate grammar of the language made from the vocabulary (editors/vscode/
 * syntaxes/ holds it, test/lsp-editors.test.ts keeps it current): keywords, events,
 * metrics and constants by the same word lists as the playground, numbers with units,
 * addresses, strings and comments by the lexer's rules.
 */
export function textMateGrammar(): Record<string, unknown> {
  const word = (words: readonly string[]) => `\\b(?:${alternation(words)})\\b`;
  return {
    $schema: "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
    name: "MPTCP policy",
    scopeName: "source.mptcp-policy",
    fileTypes: ["policy"],
    comment: "Generated from language/vocabulary.ts by language/service/highlighting.ts (textMateGrammar); do not edit.",
    patterns: [
      { name: "comment.line.number-sign.mptcp-policy", match: "#.*$" },
      {
        name: "string.quoted.double.mptcp-policy",
        begin: '"',
        end: '"|$',
        patterns: [
          { name: "constant.character.escape.mptcp-policy", match: '\\\\["\\\\]' },
          { name: "invalid.illegal.escape.mptcp-policy", match: "\\\\." },
        ],
      },
      { name: "constant.numeric.address.mptcp-policy", match: "\\b\\d+\\.\\d+\\.\\d+\\.\\d+(?:/\\d*)?|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*(?:/\\d*)?" },
      {
        name: "constant.numeric.mptcp-policy",
        match: `\\b\\d+(?:\\.\\d+)?(?:${alternation(UNITS.map((u) => u.name))})?\\b`,
      },
      { name: "keyword.control.mptcp-policy", match: word(KEYWORDS) },
      { name: "entity.name.type.event.mptcp-policy", match: word(WORD_CLASSES.events) },
      { name: "variable.other.property.metric.mptcp-policy", match: word(WORD_CLASSES.metrics) },
      { name: "constant.language.mptcp-policy", match: word(WORD_CLASSES.constants) },
      { name: "keyword.operator.comparison.mptcp-policy", match: "<=|>=|==|!=|<|>|=" },
      { name: "punctuation.separator.mptcp-policy", match: "," },
      { name: "invalid.illegal.character.mptcp-policy", match: ";" },
    ],
  };
}

/**
 * A Vim syntax file of the language made from the vocabulary (editors/vim/syntax/
 * holds it, test/lsp-editors.test.ts keeps it current), for Vim and Neovim without
 * semantic tokens. Later keywords win in Vim, so the reserved words come last.
 */
export function vimSyntax(): string {
  const keywords = (group: string, words: readonly string[]) => `syntax keyword ${group} ${[...new Set(words)].join(" ")}`;
  return [
    '" Vim syntax file for mptcp-policy files (Vim and Neovim).',
    '" Generated from language/vocabulary.ts by language/service/highlighting.ts (vimSyntax); do not edit.',
    'if exists("b:current_syntax")',
    "  finish",
    "endif",
    "",
    keywords("mptcpPolicyConstant", WORD_CLASSES.constants),
    keywords("mptcpPolicyMetric", WORD_CLASSES.metrics),
    keywords("mptcpPolicyEvent", WORD_CLASSES.events),
    keywords("mptcpPolicyKeyword", KEYWORDS),
    `syntax match mptcpPolicyNumber /\\<\\d\\+\\(\\.\\d\\+\\)\\?\\(${UNITS.map((u) => u.name).join("\\|")}\\)\\?\\>/`,
    "syntax match mptcpPolicyAddress /\\<\\d\\+\\.\\d\\+\\.\\d\\+\\.\\d\\+\\(\\/\\d*\\)\\?/",
    "syntax match mptcpPolicyAddress /\\<[0-9A-Fa-f]*:[0-9A-Fa-f:.]*\\(\\/\\d*\\)\\?/",
    "syntax match mptcpPolicyOperator /[<>=!]=\\?/",
    'syntax region mptcpPolicyString start=/"/ skip=/\\\\./ end=/"\\|$/ oneline',
    "syntax match mptcpPolicyComment /#.*$/ contains=@Spell",
    "",
    "highlight default link mptcpPolicyKeyword Keyword",
    "highlight default link mptcpPolicyEvent Type",
    "highlight default link mptcpPolicyMetric Identifier",
    "highlight default link mptcpPolicyConstant Constant",
    "highlight default link mptcpPolicyNumber Number",
    "highlight default link mptcpPolicyAddress Number",
    "highlight default link mptcpPolicyOperator Operator",
    "highlight default link mptcpPolicyString String",
    "highlight default link mptcpPolicyComment Comment",
    "",
    'let b:current_syntax = "mptcp-policy"',
    "",
  ].join("\n");
}
