// The mptcp-policy command line: one entry, one function per command. Nothing a user
// does prints a stack trace: usage and I/O problems are one line and exit 2.
import { parseArgs, type ParseArgsConfig } from "node:util";
import packageJson from "../../package.json" with { type: "json" };
import { runCheck } from "./check-command.js";
import { runCompile } from "./compile-command.js";
import { InputError, UsageError } from "./errors.js";
import { runFmt } from "./fmt-command.js";
import { writeErr, writeOut } from "./output.js";

interface Command {
  readonly summary: string;
  readonly usage: string;
  readonly options: NonNullable<ParseArgsConfig["options"]>;
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): number;
}

const COMMANDS: Record<string, Command> = {
  check: {
    summary: "check policy files and report every mistake",
    usage: `Usage: mptcp-policy check [--format text|json] PATH...

Checks policy files without touching the kernel, like 'nft -c'. PATH is a policy
file, or a directory whose *.policy files form one policy (a directory without
any checks each subdirectory that has them).

Options:
  --format text|json   text (default) or one JSON array of diagnostics on stdout
  -h, --help           show this help

Exit status: 0 no errors (warnings allowed), 1 errors, 2 usage or I/O error.`,
    options: { format: { type: "string", default: "text" }, help: { type: "boolean", short: "h" } },
    run(values, positionals) {
      return runCheck({ format: formatOption(values["format"]), paths: requirePaths(positionals, "check") });
    },
  },
  fmt: {
    summary: "rewrite policy files in the canonical layout",
    usage: `Usage: mptcp-policy fmt [--check] PATH...

Rewrites policy files in place in the canonical layout, keeping comments. A file
with syntax errors is left untouched.

Options:
  --check      change nothing; exit 1 if a file is not formatted
  -h, --help   show this help

Exit status: 0 done (or already formatted), 1 a file is not formatted or has
syntax errors, 2 usage or I/O error.`,
    options: { check: { type: "boolean", default: false }, help: { type: "boolean", short: "h" } },
    run(values, positionals) {
      return runFmt({ check: values["check"] === true, paths: requirePaths(positionals, "fmt") });
    },
  },
  compile: {
    summary: "compile a policy with one back end (--emit model)",
    usage: `Usage: mptcp-policy compile --emit KIND [-o DIR] PATH

Checks one policy (a file or a policy directory) and runs a back end on it. With
errors, prints them and exits 1 without output.

Options:
  --emit KIND     model: the checked policy model as JSON
  -o, --output DIR  write the output files into DIR instead of printing them
  -h, --help      show this help`,
    options: { emit: { type: "string" }, output: { type: "string", short: "o" }, help: { type: "boolean", short: "h" } },
    run(values, positionals) {
      if (typeof values["emit"] !== "string") throw new UsageError("compile needs --emit KIND (try 'mptcp-policy compile --help')");
      const output = values["output"];
      return runCompile({ emit: values["emit"], paths: requirePaths(positionals, "compile"), outDir: typeof output === "string" ? output : undefined });
    },
  },
};

function mainUsage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}   ${c.summary}`);
  return `Usage: mptcp-policy COMMAND [OPTIONS] [ARGS]

A programmable policy engine for Linux Multipath TCP.

Commands:
${lines.join("\n")}

Options:
  -h, --help      show this help (or 'mptcp-policy COMMAND --help')
  -V, --version   show the version

Policy files live in /etc/mptcp-policy/. See docs/language.md for the language.`;
}

function formatOption(value: string | boolean | undefined): "text" | "json" {
  if (value === "text" || value === "json") return value;
  throw new UsageError(`--format must be 'text' or 'json', not '${String(value)}'`);
}

function requirePaths(positionals: string[], command: string): string[] {
  if (positionals.length === 0) throw new UsageError(`${command} needs at least one PATH (try 'mptcp-policy ${command} --help')`);
  return positionals;
}

export function main(argv: string[]): number {
  const [first, ...rest] = argv;
  if (first === undefined || first === "-h" || first === "--help" || first === "help") {
    writeOut(mainUsage());
    return first === undefined ? 2 : 0;
  }
  if (first === "-V" || first === "--version") {
    writeOut(`mptcp-policy ${packageJson.version}`);
    return 0;
  }
  const command = COMMANDS[first];
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

export function runMain(argv: string[]): void {
  let status: number;
  try {
    status = main(argv);
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
