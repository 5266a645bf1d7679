// The VS Code extension: starts `mptcp-policy lsp` for mptcp-policy files. Everything
// the editor shows (diagnostics, completion, hover, formatting, navigation, rename,
// quick fixes, semantic tokens) comes from the server; this file only starts it.
"use strict";

/** How to start the server: the configured command (default `mptcp-policy lsp`) on stdio. */
function serverOptions(command) {
  const [program = "mptcp-policy", ...args] = command && command.length > 0 ? command : ["mptcp-policy", "lsp"];
  return { command: program, args, options: { env: process.env } };
}

/** Which documents the server gets: mptcp-policy files on disk and unsaved ones. */
function clientOptions() {
  return {
    documentSelector: [
      { scheme: "file", language: "mptcp-policy" },
      { scheme: "untitled", language: "mptcp-policy" },
    ],
  };
}

let client;

async function activate(context) {
  const vscode = require("vscode");
  const { LanguageClient } = require("vscode-languageclient/node");
  const command = vscode.workspace.getConfiguration("mptcpPolicy").get("server.command");
  client = new LanguageClient("mptcp-policy", "MPTCP policy", serverOptions(command), clientOptions());
  context.subscriptions.push(client);
  await client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate, serverOptions, clientOptions };
