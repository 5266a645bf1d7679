// `mptcp-policy check [--format text|json] PATH...`: exit 0 without errors (warnings
// allowed), 1 with errors; usage and I/O problems are exit 2, raised as errors.
import { formatOption, requirePaths, type Command } from "./command.js";
import { compilePolicy } from "../../compiler/pipeline.js";
import { render, toJson, type Diagnostic } from "../../language/diagnostics.js";
import { findPolicies, readPolicyFile } from "./load-policies.js";
import { plural, styleFor, writeErr, writeOut } from "./output.js";

export interface CheckOptions {
  readonly format: "text" | "json";
  readonly paths: readonly string[];
}

export function runCheck(options: CheckOptions): number {
  const groups = findPolicies(options.paths);
  // Read everything first: an unreadable file is exit 2 before any output.
  const sources = groups.map((group) => group.files.map(readPolicyFile));
  const results = sources.map((files) => compilePolicy(files, { model: false }));
  const diagnostics: Diagnostic[] = results.flatMap((r) => [...r.diagnostics]);
  const errors = results.reduce((n, r) => n + r.counts.errors, 0);
  const warnings = results.reduce((n, r) => n + r.counts.warnings, 0);
  if (options.format === "json") {
    writeOut(JSON.stringify(diagnostics.map(toJson), null, 2));
  } else if (diagnostics.length > 0) {
    const style = styleFor(process.stdout);
    writeOut(diagnostics.map((d) => render(d, style)).join("\n\n"));
    const fileCount = sources.reduce((n, files) => n + files.length, 0);
    writeErr(`${plural(errors, "error")}, ${plural(warnings, "warning")} in ${plural(fileCount, "file")}`);
  }
  return errors > 0 ? 1 : 0;
}

export const checkCommand: Command = {
  name: "check",
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
};
