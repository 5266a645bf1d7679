// The playground's completion and hover are the language service's
// (language/service/), the same that `mptcp-policy lsp` serves to other editors.
export { completionsAt, hoverText, inCommentOrString, type CompletionItem, type ItemKind } from "../language/service/index.js";
