// Syntax highlighting generated from the real lexer's token definitions
// (language/tokens.ts) and the vocabulary: the Monarch tokenizer tries the same
// regular expressions in the same order as chevrotain does, so the editor can never
// colour a word differently from how the checker reads it. Keywords come in through
// the identifier rule, classified by the vocabulary, as in the lexer.
import type { TokenType } from "chevrotain";
import { allTokens, keywordTokens } from "../language/tokens.js";
import { TOKEN_CLASSES, WORD_CLASSES } from "../language/service/index.js";

export const LANGUAGE_ID = "mptcp-policy";

/** Words with a meaning where they stand (not reserved), and their class: the language service's. */
export { WORD_CLASSES };

/** A Monarch rule: a regular expression and its token class (or cases). */
export type MonarchRule = [RegExp, string | { cases: Record<string, string> }];

export interface MonarchDefinition {
  readonly defaultToken: string;
  readonly keywords: readonly string[];
  readonly events: readonly string[];
  readonly metrics: readonly string[];
  readonly constants: readonly string[];
  readonly tokenizer: { readonly root: MonarchRule[] };
}

function isNotApplicable(token: TokenType): boolean {
  const pattern = token.PATTERN;
  return !(pattern instanceof RegExp) || pattern.source === "NOT_APPLICABLE";
}

/** Monarch escapes `@` in patterns (it names attributes): keep a literal one literal. */
function monarchRegex(pattern: RegExp): RegExp {
  return new RegExp(pattern.source.replace(/@/g, "@@"), pattern.flags);
}

export function monarchDefinition(): MonarchDefinition {
  const keywordTypes = new Set(keywordTokens.values());
  const root: MonarchRule[] = [];
  for (const token of allTokens) {
    if (isNotApplicable(token) || keywordTypes.has(token)) continue;
    const pattern = monarchRegex(token.PATTERN as RegExp);
    if (token.name === "Identifier") {
      root.push([
        pattern,
        { cases: { "@keywords": "keyword", "@events": "type.event", "@metrics": "variable.metric", "@constants": "constant", "@default": "identifier" } },
      ]);
      continue;
    }
    const cls = TOKEN_CLASSES[token.name];
    if (cls === undefined) throw new Error(`no highlighting class for token ${token.name}`);
    root.push([pattern, cls]);
  }
  // What the lexer rejects (E001) is shown as such.
  root.push([/./, "invalid"]);
  return {
    defaultToken: "invalid",
    keywords: WORD_CLASSES.keywords,
    events: WORD_CLASSES.events,
    metrics: WORD_CLASSES.metrics,
    constants: WORD_CLASSES.constants,
    tokenizer: { root },
  };
}
