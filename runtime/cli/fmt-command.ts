// `mptcp-policy fmt [--check] PATH...`: rewrite files in the canonical layout. A file
// with syntax errors is refused and left untouched; writes are atomic (temp + rename).
import { formatOption, requirePaths, type Command } from "./command.js";
import { renameSync, statSync, writeFileSync, chmodSync, unlinkSync } from "node:fs";
import { hasErrors, render } from "../../language/diagnostics.js";
import { formatFile } from "../../language/formatter.js";
import { parseFile } from "../../language/parse.js";
import { sourceFile } from "../../language/source.js";
import { InputError } from "./errors.js";
import { describeFsError, findPolicies, readPolicyFile } from "./load-policies.js";
import { styleFor, writeErr, writeOut } from "./output.js";

export interface FmtOptions {
  readonly check: boolean;
  readonly paths: readonly string[];
}

export function runFmt(options: FmtOptions): number {
  const paths = findPolicies(options.paths).flatMap((group) => group.files);
  const sources = paths.map(readPolicyFile);
  let status = 0;
  for (const source of sources) {
    const parsed = parseFile(sourceFile(source.name, source.text));
    if (hasErrors(parsed.diagnostics)) {
      const style = styleFor(process.stderr);
      writeErr(
        parsed.diagnostics
          .filter((d) => d.severity === "error")
          .map((d) => render(d, style))
          .join("\n\n"),
      );
      writeErr(`${source.name}: not formatted: fix the syntax errors first`);
      status = 1;
      continue;
    }
    const formatted = formatFile(parsed.tree);
    if (formatted === source.text) continue;
    if (options.check) {
      writeOut(`${source.name}: not formatted`);
      status = 1;
    } else {
      writeAtomically(source.name, formatted);
      writeOut(`${source.name}: formatted`);
    }
  }
  return status;
}

function writeAtomically(path: string, text: string): void {
  const temporary = `${path}.fmt-${process.pid}.tmp`;
  try {
    writeFileSync(temporary, text, { flag: "wx" });
    chmodSync(temporary, statSync(path).mode & 0o7777);
    renameSync(temporary, path);
  } catch (cause) {
    try {
      unlinkSync(temporary);
    } catch {
      // nothing to clean up
    }
    throw new InputError(`${path}: cannot write: ${describeFsError(cause)}`);
  }
}

export const fmtCommand: Command = {
  name: "fmt",
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
};
