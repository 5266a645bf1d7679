// The parser's syntax error messages, in the words of the language rather than of
// chevrotain's grammar: "expected a condition but found 'then'".
import { EOF, type IParserErrorMessageProvider, type IToken, type TokenType } from "chevrotain";

function label(token: TokenType): string {
  return token === EOF ? "end of file" : (token.LABEL ?? token.name);
}

function found(token: IToken): string {
  if (token.tokenType === EOF) return "end of file";
  const image = token.image.length > 24 ? `${token.image.slice(0, 24)}…` : token.image;
  // Control characters never reach a terminal through a message.
  return `'${image.replace(/[\x00-\x1f\x7f]/g, "\u00bf")}'`;
}

function oneOf(tokens: TokenType[]): string {
  const names = [...new Set(tokens.map(label))];
  if (names.length === 1) return names[0] ?? "";
  const shown = names.slice(0, 8);
  const rest = names.length > shown.length ? ", …" : "";
  return `one of ${shown.join(", ")}${rest}`;
}

const RULE_DESCRIPTIONS: Record<string, string> = {
  policy: "a statement (interface, limits, endpoint, on, scheduler)",
  action: "an action (create, destroy, announce, withdraw, set, log)",
  predicate: "a condition",
  notExpr: "a condition",
  step: "a scheduler step (use, redundant, round_robin)",
  limitEntry: "a limit (subflows, add_addr_accepted)",
  addressOrName: "an interface name or an address",
};

/** A stand-in where chevrotain has no token to show. */
export const NO_TOKEN = { tokenType: EOF, image: "" } as IToken;

export const syntaxMessages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, actual }) =>
    expected === EOF ? `expected ${RULE_DESCRIPTIONS["policy"]} but found ${found(actual)}` : `expected ${label(expected)} but found ${found(actual)}`,
  buildNotAllInputParsedMessage: ({ firstRedundant }) => `expected ${RULE_DESCRIPTIONS["policy"]} but found ${found(firstRedundant)}`,
  buildNoViableAltMessage: ({ expectedPathsPerAlt, actual, ruleName }) => {
    const firsts = expectedPathsPerAlt.flatMap((paths) => paths.map((path) => path[0])).filter((t): t is TokenType => !!t);
    return `expected ${RULE_DESCRIPTIONS[ruleName] ?? oneOf(firsts)} but found ${found(actual[0] ?? NO_TOKEN)}`;
  },
  buildEarlyExitMessage: ({ expectedIterationPaths, actual, ruleName }) => {
    const firsts = expectedIterationPaths.map((path) => path[0]).filter((t): t is TokenType => !!t);
    return `expected ${RULE_DESCRIPTIONS[ruleName] ?? oneOf(firsts)} but found ${found(actual[0] ?? NO_TOKEN)}`;
  },
};
