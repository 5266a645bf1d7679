// Deep nesting is refused before parsing: the parser is recursive, and a file of
// thousands of '(' must give a diagnostic (E004), not a stack overflow. Parentheses
// past the limit are dropped with their partners, so the rest still parses.
import type { IToken } from "chevrotain";
import { error, type Diagnostic } from "./diagnostics.js";
import { span, type SourceFile } from "./source.js";
import { LParen, RParen } from "./tokens.js";
import { MAX_NESTING } from "./vocabulary.js";

export function limitNesting(file: SourceFile, tokens: IToken[]): { tokens: IToken[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const kept: IToken[] = [];
  const dropped: boolean[] = [];
  let depth = 0;
  let droppedOpen = 0;
  for (const token of tokens) {
    if (token.tokenType === LParen) {
      depth += 1;
      const tooDeep = depth > MAX_NESTING;
      if (tooDeep && droppedOpen === 0) {
        diagnostics.push(
          error("E004", span(file, token.startOffset, token.startOffset + 1), `parentheses nested more than ${MAX_NESTING} deep`, {
            hints: ["split the condition into simpler rules"],
          }),
        );
      }
      dropped.push(tooDeep);
      if (tooDeep) {
        droppedOpen += 1;
        continue;
      }
    } else if (token.tokenType === RParen && dropped.length > 0) {
      depth -= 1;
      if (dropped.pop()) {
        droppedOpen -= 1;
        continue;
      }
    }
    kept.push(token);
  }
  return { tokens: kept, diagnostics };
}
