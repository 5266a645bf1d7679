// The language service: every editor feature of the policy language, as pure
// functions of one analysed policy (analysis.ts), one module per feature as Langium
// keeps them. Two hosts use it: the playground (editor/: its check worker and Monaco)
// and `mptcp-policy lsp` (runtime/cli/lsp-command.ts), so both always agree.
// Positions are 1-based lines and columns in UTF-16 code units, as the checker's.
export { analyzePolicy, locationOf, offsetAt, rangeIn, type Analysis, type DeclaredNames, type Location, type PolicyText, type Position } from "./analysis.js";
export { completionAt, completionsAt, inCommentOrString, type CompletionItem, type ItemKind } from "./completion.js";
export { diagnosticInfo, diagnosticsOf, quickFixes, type DiagnosticInfo, type QuickFix } from "./diagnostics.js";
export { formatText, lineEdit, type TextEdit } from "./formatting.js";
export { semanticTokens, textMateGrammar, TOKEN_CLASSES, TOKEN_MODIFIERS, TOKEN_TYPES, vimSyntax, WORD_CLASSES, type SemanticToken } from "./highlighting.js";
export { hoverAt, hoverText, WORD_PATTERN, wordAt } from "./hover.js";
export { definitionAt, referencesAt, renameAt, renameTarget, type RenameResult } from "./navigation.js";
export { outlineAt, type OutlineItem, type OutlineKind } from "./outline.js";
