// Chevrotain checks a grammar (ambiguities, left recursion, lexer optimisations) every
// time a lexer or parser is built: about 30 ms of each CLI start. The grammar is fixed
// when the bundles are built, so they skip it (esbuild defines MPTCP_POLICY_BUNDLED);
// the sources, which the tests run, keep every check, so a grammar mistake still fails
// the suite (test/grammar.test.ts).
declare const MPTCP_POLICY_BUNDLED: boolean | undefined;

export const SKIP_GRAMMAR_VALIDATIONS: boolean = typeof MPTCP_POLICY_BUNDLED !== "undefined" && MPTCP_POLICY_BUNDLED;
