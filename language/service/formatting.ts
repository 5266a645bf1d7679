// Formatting as `mptcp-policy fmt` does it: the real formatter, and a file with
// syntax errors refused. Editors get the change as one edit of the lines that
// differ, so the cursor and marks elsewhere stay where they were. Pure.
import { hasErrors } from "../diagnostics.js";
import { formatFile } from "../formatter.js";
import { parseFile } from "../parse.js";
import { sourceFile } from "../source.js";
import type { PolicyText } from "./analysis.js";

/** The formatter's text for one file, or why it cannot be formatted (as `fmt` refuses). */
export function formatText(file: PolicyText): { text: string } | { error: string } {
  const parsed = parseFile(sourceFile(file.name, file.text));
  if (hasErrors(parsed.diagnostics)) return { error: `${file.name} has syntax errors: fix them first, then format` };
  return { text: formatFile(parsed.tree) };
}

/** One edit of whole lines that turns `before` into `after`, by offsets of `before`; none when equal. */
export interface TextEdit {
  readonly start: number;
  readonly end: number;
  readonly newText: string;
}

export function lineEdit(before: string, after: string): TextEdit | undefined {
  if (before === after) return undefined;
  const limit = Math.min(before.length, after.length);
  let prefix = 0;
  for (let i = 0; i < limit && before[i] === after[i]; i++) if (before[i] === "\n") prefix = i + 1;
  let suffix = 0;
  for (let i = 1; i <= limit - prefix && before[before.length - i] === after[after.length - i]; i++) {
    if (before[before.length - i - 1] === "\n" && after[after.length - i - 1] === "\n") suffix = i;
  }
  return { start: prefix, end: before.length - suffix, newText: after.slice(prefix, after.length - suffix) };
}
