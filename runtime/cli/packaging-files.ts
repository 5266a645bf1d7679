// The generated files the Debian package installs: the two man pages and the bash
// completion, from the command table and docs/language.md. scripts/packaging-files.mjs
// writes them; test/manual.test.ts checks them against the CLI's `--help`.
import packageJson from "../../package.json" with { type: "json" };
import { LOG_LEVELS } from "../daemon/logger.js";
import { bashCompletion } from "./completion.js";
import { EMITTERS } from "./compile-command.js";
import { COMMANDS } from "./main.js";
import { commandManual, languageManual } from "./manual.js";

export interface GeneratedFile {
  /** Where the package installs it, relative to the root. */
  readonly path: string;
  readonly text: string;
}

/** The values of options whose usage names a placeholder (KIND, LEVEL) rather than "a|b". */
export const OPTION_VALUES: Readonly<Record<string, readonly string[]>> = {
  format: ["text", "json"],
  emit: Object.keys(EMITTERS),
  "log-level": LOG_LEVELS,
};

export function packagingFiles(languageMarkdown: string, date: string): GeneratedFile[] {
  const info = { version: packageJson.version, date };
  const commands = [...COMMANDS.values()];
  return [
    { path: "usr/share/man/man8/mptcp-policy.8", text: commandManual(commands, info) },
    { path: "usr/share/man/man5/mptcp-policy.policy.5", text: languageManual(languageMarkdown, info) },
    { path: "usr/share/bash-completion/completions/mptcp-policy", text: bashCompletion({ commands, optionValues: OPTION_VALUES }) },
  ];
}
