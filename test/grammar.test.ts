// The bundles skip Chevrotain's grammar checks (language/grammar-validation.ts); the
// sources keep them, so a grammar mistake fails here rather than passing unseen.
import { Lexer } from "chevrotain";
import { describe, expect, it } from "vitest";
import { SKIP_GRAMMAR_VALIDATIONS } from "../language/grammar-validation.js";
import { PolicyParser } from "../language/parser.js";
import { allTokens } from "../language/tokens.js";

describe("grammar checks", () => {
  it("run in the sources: the parser and the lexer build with every check on", () => {
    expect(SKIP_GRAMMAR_VALIDATIONS).toBe(false);
    // performSelfAnalysis throws on ambiguities and other definition errors.
    expect(() => new PolicyParser()).not.toThrow();
    const lexer = new Lexer(allTokens, { ensureOptimizations: true, positionTracking: "onlyOffset" });
    expect(lexer.lexerDefinitionErrors).toEqual([]);
  });
});
