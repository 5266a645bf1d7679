// Source text to tokens. Lexical mistakes become diagnostics (E001, E002) and the
// tokens around them survive, so the parser can still report what follows. Words are
// lexed as identifiers and keywords picked out by the word table, as Monarch does in
// the playground.
import { Lexer, type IToken, type TokenType } from "chevrotain";
import { error, type Diagnostic } from "./diagnostics.js";
import { SKIP_GRAMMAR_VALIDATIONS } from "./grammar-validation.js";
import { span, type SourceFile } from "./source.js";
import type { Comment } from "./syntax-tree.js";
import { allTokens, Identifier, keywordTokens, UnterminatedString } from "./tokens.js";

export interface LexResult {
  readonly tokens: IToken[];
  readonly comments: Comment[];
  readonly diagnostics: Diagnostic[];
}

let lexer: Lexer | undefined;

const KEYWORD_BY_WORD: ReadonlyMap<string, { readonly type: TokenType; readonly word: string }> = new Map(
  [...keywordTokens].map(([word, type]) => [word, { type, word }]),
);

function policyLexer(): Lexer {
  // Built on first use: module load stays cheap for commands that never lex.
  lexer ??= new Lexer(allTokens, { ensureOptimizations: true, positionTracking: "onlyOffset", skipValidations: SKIP_GRAMMAR_VALIDATIONS });
  return lexer;
}

export function tokenize(file: SourceFile): LexResult {
  const result = policyLexer().tokenize(file.text);
  const diagnostics: Diagnostic[] = [];
  for (const problem of result.errors) {
    const text = file.text.slice(problem.offset, problem.offset + problem.length);
    diagnostics.push(
      error("E001", span(file, problem.offset, problem.offset + problem.length), describeUnexpected(text), {
        hints: hintFor(text),
      }),
    );
  }
  const tokens = result.tokens;
  // Each word's text is kept once: a large policy repeats a few dozen words, and one
  // string each, not one per occurrence, is far less for the collector to carry.
  const words = new Map<string, string>();
  // An indexed loop: it runs once per file over every token, often before the JIT
  // has optimised it, and `for...of` would then allocate a result object per token.
  for (let i = 0; i < tokens.length; i += 1) {
    const token = tokens[i] as IToken;
    if (token.tokenType === Identifier) {
      const keyword = KEYWORD_BY_WORD.get(token.image);
      if (keyword !== undefined) {
        token.tokenType = keyword.type;
        token.tokenTypeIdx = keyword.type.tokenTypeIdx as number;
        token.image = keyword.word;
        continue;
      }
      const seen = words.get(token.image);
      if (seen === undefined) words.set(token.image, token.image);
      else token.image = seen;
    } else if (token.tokenType === UnterminatedString) {
      diagnostics.push(
        error("E002", span(file, token.startOffset, token.startOffset + token.image.length), "unterminated string", {
          hints: ['close the string with " on the same line'],
        }),
      );
    }
  }
  const comments: Comment[] = (result.groups["comments"] ?? []).map((token) => ({
    kind: "Comment",
    text: token.image,
    span: span(file, token.startOffset, token.startOffset + token.image.length),
  }));
  return { tokens: result.tokens, comments, diagnostics };
}

function describeUnexpected(text: string): string {
  const first = text.codePointAt(0) ?? 0;
  if (first === 0) return text.length > 1 ? `unexpected NUL bytes (${text.length} characters)` : "unexpected NUL byte";
  if (text.length > 1) return `unexpected characters (${text.length}) starting with ${describeChar(first)}`;
  return `unexpected character ${describeChar(first)}`;
}

function describeChar(code: number): string {
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  if (code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0)) return hex;
  return `'${String.fromCodePoint(code)}' (${hex})`;
}

function hintFor(text: string): string[] {
  if (text.startsWith("\u00a0")) return ["this is a non-breaking space; use a plain space"];
  if (/^[\u201c\u201d]/.test(text)) return ['use straight quotes (") for strings'];
  if (text.startsWith(";")) return ["statements need no terminator; remove the ';'"];
  if (text.startsWith("/")) return ["comments start with '#'"];
  return [];
}
