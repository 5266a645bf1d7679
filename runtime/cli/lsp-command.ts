// `mptcp-policy lsp`: the language server for editors (Neovim, Vim, VS Code; see
// docs/editors.md), on stdin and stdout. The server (lsp-server.ts and
// vscode-languageserver) is loaded only when this command runs, so other commands
// start as fast as before.
import type { Command } from "./command.js";

export const lspCommand: Command = {
  name: "lsp",
  summary: "the language server for editors, on stdio (docs/editors.md)",
  usage: `Usage: mptcp-policy lsp [--stdio]

Speaks the Language Server Protocol on stdin and stdout: the checker's diagnostics
as you type, completion, hover, formatting, go to definition, references and rename
of interface and scheduler names, the outline, semantic tokens and quick fixes.
A file's policy is its directory when the file is one of the directory's *.policy
files, as 'mptcp-policy check DIR' reads them; any other file is a policy of its own.
Editor set-up: docs/editors.md.

Options:
  --stdio      accepted for clients that pass it; stdio is the only transport
  -h, --help   show this help`,
  options: { stdio: { type: "boolean" }, clientProcessId: { type: "string" }, help: { type: "boolean", short: "h" } },
  async run() {
    const { startLanguageServer } = await import("./lsp-server.js");
    const connection = startLanguageServer();
    // The connection ends the process on the client's `exit`; until then, wait.
    await new Promise<void>((resolve) => connection.onExit(() => resolve()));
    return 0;
  },
};
