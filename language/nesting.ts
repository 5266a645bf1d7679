// Deep nesting is refused before parsing: the parser and later passes recurse over
// conditions, and a file of thousands of '(' or 'not' must give a diagnostic (E004),
// not a stack overflow. Parentheses past the limit are dropped with their partners,
// and a run of 'not's is cut to the limit (keeping its parity), so the rest parses.
import type { IToken } from "chevrotain";
import { error, type Diagnostic } from "./diagnostics.js";
import { span, type SourceFile } from "./source.js";
import { kw, LParen, RParen } from "./tokens.js";
import { MAX_NESTING } from "./vocabulary.js";

export function limitNesting(file: SourceFile, tokens: IToken[]): { tokens: IToken[]; diagnostics: Diagnostic[] } {
  if (withinLimit(tokens)) return { tokens, diagnostics: [] };
  const diagnostics: Diagnostic[] = [];
  const kept: IToken[] = [];
  const dropped: boolean[] = [];
  const not = kw("not");
  let depth = 0;
  let droppedOpen = 0;
  let notRun = 0;
  // Drop the extra 'not's; an odd number dropped takes one more, so the meaning stays.
  const endNotRun = () => {
    if (notRun > MAX_NESTING && (notRun - MAX_NESTING) % 2 === 1) kept.pop();
  };
  for (const token of tokens) {
    if (token.tokenType === not) {
      notRun += 1;
      if (notRun === MAX_NESTING + 1) {
        diagnostics.push(error("E004", tokenSpan(file, token), `more than ${MAX_NESTING} 'not' in a row`, { hints: ["two 'not's cancel out: remove them in pairs"] }));
      }
      if (notRun > MAX_NESTING) continue;
    } else {
      endNotRun();
      notRun = 0;
    }
    if (token.tokenType === LParen) {
      depth += 1;
      const tooDeep = depth > MAX_NESTING;
      if (tooDeep && droppedOpen === 0) {
        diagnostics.push(error("E004", tokenSpan(file, token), `parentheses nested more than ${MAX_NESTING} deep`, { hints: ["split the condition into simpler rules"] }));
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
  endNotRun();
  return { tokens: kept, diagnostics };
}

/** The common case, checked without copying: no run of '(' or 'not' past the limit. */
function withinLimit(tokens: IToken[]): boolean {
  const not = kw("not");
  let depth = 0;
  let notRun = 0;
  // Indexed: this runs once per file over every token, and `for...of` would allocate
  // a result object per token until the JIT optimises the loop.
  for (let i = 0; i < tokens.length; i += 1) {
    const token = tokens[i] as IToken;
    if (token.tokenType === not) {
      if (++notRun > MAX_NESTING) return false;
      continue;
    }
    notRun = 0;
    if (token.tokenType === LParen && ++depth > MAX_NESTING) return false;
    if (token.tokenType === RParen && depth > 0) depth -= 1;
  }
  return true;
}

function tokenSpan(file: SourceFile, token: IToken) {
  return span(file, token.startOffset, token.startOffset + token.image.length);
}
