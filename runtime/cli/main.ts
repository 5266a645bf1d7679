// The mptcp-policy command line: one entry, one function per command. Nothing a user
// does prints a stack trace: usage and I/O problems are one line and exit 2.
import packageJson from "../../package.json" with { type: "json" };
import { attachCommand, detachCommand } from "./attach-command.js";
import { buildCommand } from "./build-command.js";
import { checkCommand } from "./check-command.js";
import type { Command } from "./command.js";
import { compileCommand } from "./compile-command.js";
import { doctorCommand } from "./doctor-command.js";
import { dispatch, exitWith } from "./dispatch.js";
import { UsageError } from "./errors.js";
import { explainCommand } from "./explain-command.js";
import { fmtCommand } from "./fmt-command.js";
import { simulateCommand } from "./simulate-command.js";
import { monitorCommand } from "./monitor-command.js";
import { statusCommand } from "./status-command.js";
import { writeOut } from "./output.js";
import { lspCommand } from "./lsp-command.js";
import { playgroundCommand } from "./playground-command.js";
import { runCommand } from "./run-command.js";

/** Every command, in the order `--help` lists them (the man page and completion read it too). */
export const COMMANDS: ReadonlyMap<string, Command> = new Map(
  [
    checkCommand,
    fmtCommand,
    compileCommand,
    explainCommand,
    simulateCommand,
    monitorCommand,
    statusCommand,
    runCommand,
    doctorCommand,
    buildCommand,
    attachCommand,
    detachCommand,
    playgroundCommand,
    lspCommand,
  ].map((c) => [c.name, c]),
);

function mainUsage(): string {
  const width = Math.max(...[...COMMANDS.keys()].map((c) => c.length));
  const lines = [...COMMANDS.values()].map((c) => `  ${c.name.padEnd(width)}   ${c.summary}`);
  return `Usage: mptcp-policy COMMAND [OPTIONS] [ARGS]

A programmable policy engine for Linux Multipath TCP.

Commands:
${lines.join("\n")}

Options:
  -h, --help      show this help (or 'mptcp-policy COMMAND --help')
  -V, --version   show the version

Policy files live in /etc/mptcp-policy/. See docs/language.md for the language.`;
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === "-h" || first === "--help" || first === "help") {
    writeOut(mainUsage());
    return first === undefined ? 2 : 0;
  }
  if (first === "-V" || first === "--version") {
    writeOut(`mptcp-policy ${packageJson.version}`);
    return 0;
  }
  const command = COMMANDS.get(first);
  if (!command) throw new UsageError(`unknown command '${first}' (try 'mptcp-policy --help')`);
  return dispatch(command, rest);
}

export async function runMain(argv: string[]): Promise<void> {
  await exitWith(() => main(argv));
}
