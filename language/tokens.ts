// Token definitions. Keywords come from the vocabulary table, so the lexer, the
// playground's highlighting and completion can never disagree about them.
import { createToken, Lexer, type TokenType } from "chevrotain";
import { KEYWORDS } from "./vocabulary.js";

export const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /[ \t\r\n\f\v\uFEFF]+/, group: Lexer.SKIPPED });
export const Comment = createToken({ name: "Comment", pattern: /#[^\n\r]*/, group: "comments", label: "a comment" });

export const StringLiteral = createToken({ name: "StringLiteral", pattern: Lexer.NA, label: "a string" });
export const TerminatedString = createToken({
  name: "TerminatedString",
  pattern: /"(?:[^"\\\n\r]|\\[^\n\r])*"/,
  categories: [StringLiteral],
  label: "a string",
});
// Kept as a string so the parser goes on; the lexer reports it (E002).
export const UnterminatedString = createToken({
  name: "UnterminatedString",
  pattern: /"(?:[^"\\\n\r]|\\[^\n\r])*\\?/,
  categories: [StringLiteral],
  label: "a string",
});

export const Address = createToken({ name: "Address", pattern: Lexer.NA, label: "an address" });
// Anything with a colon is IPv6-shaped; ipaddr.js decides in the checker whether it is one.
export const Address6 = createToken({
  name: "Address6",
  pattern: /[0-9A-Fa-f]*:[0-9A-Fa-f:.]*(?:\/\d*)?/,
  categories: [Address],
  label: "an address",
});
export const Address4 = createToken({
  name: "Address4",
  pattern: /\d+\.\d+\.\d+\.\d+(?:\/\d*)?/,
  categories: [Address],
  label: "an address",
});
export const NumberToken = createToken({
  name: "Number",
  pattern: /\d+(?:\.\d+)?(?:[A-Za-z_][A-Za-z0-9_]*)?/,
  label: "a number",
});
export const Identifier = createToken({ name: "Identifier", pattern: /[A-Za-z_][A-Za-z0-9_-]*/, label: "a name" });

// Keywords have no pattern of their own: the lexer reads every word as an Identifier
// and the word table turns keywords into their token type (lexer.ts). One pattern
// test per word, instead of one per keyword sharing its first letter, each followed
// by an Identifier test for the longer match (chevrotain's `longer_alt`).
function keyword(word: string): TokenType {
  return createToken({ name: `kw_${word}`, pattern: Lexer.NA, label: `'${word}'` });
}
export const keywordTokens: ReadonlyMap<string, TokenType> = new Map(KEYWORDS.map((word) => [word, keyword(word)]));
export function kw(word: string): TokenType {
  const token = keywordTokens.get(word);
  if (!token) throw new Error(`not a keyword: ${word}`);
  return token;
}

export const LBrace = createToken({ name: "LBrace", pattern: /\{/, label: "'{'" });
export const RBrace = createToken({ name: "RBrace", pattern: /\}/, label: "'}'" });
export const LParen = createToken({ name: "LParen", pattern: /\(/, label: "'('" });
export const RParen = createToken({ name: "RParen", pattern: /\)/, label: "')'" });
export const Comma = createToken({ name: "Comma", pattern: /,/, label: "','" });

export const Comparator = createToken({ name: "Comparator", pattern: Lexer.NA, label: "a comparison (< <= > >= == !=)" });
export const LessEqual = createToken({ name: "LessEqual", pattern: /<=/, categories: [Comparator], label: "'<='" });
export const Less = createToken({ name: "Less", pattern: /</, categories: [Comparator], label: "'<'" });
export const GreaterEqual = createToken({ name: "GreaterEqual", pattern: />=/, categories: [Comparator], label: "'>='" });
export const Greater = createToken({ name: "Greater", pattern: />/, categories: [Comparator], label: "'>'" });
export const EqualEqual = createToken({ name: "EqualEqual", pattern: /==/, categories: [Comparator], label: "'=='" });
export const NotEqual = createToken({ name: "NotEqual", pattern: /!=/, categories: [Comparator], label: "'!='" });
export const Equals = createToken({ name: "Equals", pattern: /=/, label: "'='" });

/** Order matters: the first pattern that matches wins. */
export const allTokens: TokenType[] = [
  WhiteSpace,
  Comment,
  StringLiteral,
  TerminatedString,
  UnterminatedString,
  Address,
  Address6,
  Address4,
  NumberToken,
  ...keywordTokens.values(),
  Identifier,
  LBrace,
  RBrace,
  LParen,
  RParen,
  Comma,
  Comparator,
  LessEqual,
  Less,
  GreaterEqual,
  Greater,
  EqualEqual,
  NotEqual,
  Equals,
];
