// What every command of the CLI provides: its help text, its options for
// util.parseArgs, and the function that runs it and returns the exit status.
import type { ParseArgsConfig } from "node:util";
import { UsageError } from "./errors.js";

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly options: NonNullable<ParseArgsConfig["options"]>;
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): number | Promise<number>;
}

export function formatOption(value: string | boolean | undefined): "text" | "json" {
  if (value === "text" || value === "json") return value;
  throw new UsageError(`--format must be 'text' or 'json', not '${String(value)}'`);
}

export function requirePaths(positionals: string[], command: string): string[] {
  if (positionals.length === 0) throw new UsageError(`${command} needs at least one PATH (try 'mptcp-policy ${command} --help')`);
  return positionals;
}
