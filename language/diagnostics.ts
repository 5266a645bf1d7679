// One diagnostic type for every stage, and the two ways users see them: text in the
// style of bpftrace and nft (location, source line, carets, hints) and JSON.
import type { Code } from "./codes.js";
import { lineText, positionAt, type Span } from "./source.js";

export type Severity = "error" | "warning";

export interface Related {
  readonly span: Span;
  readonly message: string;
}

export interface Diagnostic {
  readonly severity: Severity;
  readonly code: Code;
  readonly message: string;
  readonly span: Span;
  readonly related: readonly Related[];
  readonly hints: readonly string[];
}

export function error(code: Code, span: Span, message: string, extra: { hints?: string[]; related?: Related[] } = {}): Diagnostic {
  return { severity: "error", code, message, span, related: extra.related ?? [], hints: extra.hints ?? [] };
}

export function warning(code: Code, span: Span, message: string, extra: { hints?: string[]; related?: Related[] } = {}): Diagnostic {
  return { severity: "warning", code, message, span, related: extra.related ?? [], hints: extra.hints ?? [] };
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/** The JSON shape of `check --format json` (1-based, end column exclusive of nothing: it is the last column + 1). */
export interface DiagnosticJson {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  severity: Severity;
  code: Code;
  message: string;
  hint?: string;
}

export function toJson(d: Diagnostic): DiagnosticJson {
  const start = positionAt(d.span.file, d.span.start);
  const end = positionAt(d.span.file, d.span.end);
  const json: DiagnosticJson = {
    file: d.span.file.name,
    line: start.line,
    column: start.column,
    endLine: end.line,
    endColumn: end.column,
    severity: d.severity,
    code: d.code,
    message: d.message,
  };
  if (d.hints.length > 0) json.hint = d.hints.join(" ");
  return json;
}

export interface Style {
  readonly bold: (s: string) => string;
  readonly red: (s: string) => string;
  readonly yellow: (s: string) => string;
  readonly cyan: (s: string) => string;
  readonly dim: (s: string) => string;
}

const plain = (s: string) => s;
export const NO_STYLE: Style = { bold: plain, red: plain, yellow: plain, cyan: plain, dim: plain };
export const ANSI_STYLE: Style = {
  bold: (s) => `\x1b[1m${s}\x1b[0m`,
  red: (s) => `\x1b[31m${s}\x1b[0m`,
  yellow: (s) => `\x1b[33m${s}\x1b[0m`,
  cyan: (s) => `\x1b[36m${s}\x1b[0m`,
  dim: (s) => `\x1b[2m${s}\x1b[0m`,
};

/** `file:line:col: error[E100]: message`, the source line, carets, related notes, hints. */
export function render(d: Diagnostic, style: Style = NO_STYLE): string {
  const start = positionAt(d.span.file, d.span.start);
  const label = d.severity === "error" ? style.red(style.bold("error")) : style.yellow(style.bold("warning"));
  const lines = [`${style.bold(`${d.span.file.name}:${start.line}:${start.column}:`)} ${label}[${d.code}]: ${style.bold(d.message)}`];
  lines.push(...excerpt(d.span, "^", style.red));
  for (const note of d.related) {
    const at = positionAt(note.span.file, note.span.start);
    lines.push(`${note.span.file.name}:${at.line}:${at.column}: ${style.cyan("note")}: ${note.message}`);
    lines.push(...excerpt(note.span, "~", style.cyan));
  }
  for (const hint of d.hints) lines.push(`${style.cyan("hint")}: ${hint}`);
  return lines.join("\n");
}

const MAX_EXCERPT = 160;

function excerpt(at: Span, mark: string, colour: (s: string) => string): string[] {
  const start = positionAt(at.file, at.start);
  const end = positionAt(at.file, at.end);
  const text = lineText(at.file, start.line);
  // Long lines (minified junk) are cut around the mark so output stays readable.
  const from = Math.max(0, start.column - 1 - MAX_EXCERPT / 2);
  const shown = printable(text.slice(from, from + MAX_EXCERPT));
  const caretStart = start.column - 1 - from;
  const width = end.line === start.line ? Math.max(1, end.column - start.column) : Math.max(1, text.length - (start.column - 1));
  const caretWidth = Math.max(1, Math.min(width, shown.length - caretStart));
  const pad = shown.slice(0, caretStart).replace(/[^\t]/g, " ");
  return [`  ${shown}`, `  ${pad}${colour(mark.repeat(caretWidth))}`];
}

/** Control characters (NUL, escape) are shown as their code, never sent to a terminal. */
function printable(text: string): string {
  return text.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, "\u00bf");
}
