// The mptcp-policy command line: one entry, one function per command. Nothing a user
// does prints a stack trace: usage and I/O problems are one line and exit 2.
import { parseArgs } from "node:util";
import packageJson from "../../package.json" with { type: "json" };
import { attachCommand, detachCommand } from "./attach-command.js";
import { buildCommand } from "./build-command.js";
import { checkCommand } from "./check-command.js";
import type { Command } from "./command.js";
import { compileCommand } from "./compile-command.js";
import { doctorCommand } from "./doctor-command.js";
import { InputError, UsageError } from "./errors.js";
import { explainCommand } from "./explain-command.js";
import { fmtCommand } from "./fmt-command.js";
import { simulateCommand } from "./simulate-command.js";
import { monitorCommand } from "./monitor-command.js";
import { statusCommand } from "./status-command.js";
import { writeErr, writeOut } from "./output.js";
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
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true });
  } catch (cause) {
    throw new UsageError(`${first}: ${(cause as Error).message.split("\n")[0]}`);
  }
  if (parsed.values["help"] === true) {
    writeOut(command.usage);
    return 0;
  }
  return command.run(parsed.values as Record<string, string | boolean | undefined>, parsed.positionals);
}

export async function runMain(argv: string[]): Promise<void> {
  let status: number;
  try {
    status = await main(argv);
  } catch (cause) {
    if (cause instanceof UsageError || cause instanceof InputError) {
      writeErr(`mptcp-policy: ${cause.message}`);
      status = 2;
    } else {
      // A bug of ours: still one line for the user; the stack only on request.
      writeErr(`mptcp-policy: internal error: ${(cause as Error)?.message ?? String(cause)}`);
      if (process.env["MPTCP_POLICY_DEBUG"]) writeErr(String((cause as Error)?.stack));
      status = 70;
    }
  }
  process.exitCode = status;
}
