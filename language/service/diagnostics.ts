// The checker's diagnostics as editors show them (1-based ranges by file name), and
// the quick fixes its hints name: "did you mean 'wifi'?", "write 'on'". Pure.
import type { Diagnostic, Severity } from "../diagnostics.js";
import { locationOf, type Analysis, type Location } from "./analysis.js";

export interface DiagnosticInfo extends Location {
  readonly severity: Severity;
  readonly code: string;
  readonly message: string;
  readonly hints: readonly string[];
  readonly related: readonly (Location & { readonly message: string })[];
}

export function diagnosticInfo(d: Diagnostic): DiagnosticInfo {
  return {
    ...locationOf(d.span),
    severity: d.severity,
    code: d.code,
    message: d.message,
    hints: d.hints,
    related: d.related.map((r) => ({ ...locationOf(r.span), message: r.message })),
  };
}

/** Every diagnostic of the policy, sorted by file and position (as `check` prints them). */
export function diagnosticsOf(analysis: Analysis): DiagnosticInfo[] {
  return analysis.result.diagnostics.map(diagnosticInfo);
}

export interface QuickFix {
  readonly title: string;
  readonly diagnostic: DiagnosticInfo;
  /** Replace `range` (in the diagnostic's file) with `newText`. */
  readonly range: Location;
  readonly newText: string;
}

const WORD = /^[A-Za-z0-9_.:/]+$/;

/**
 * The fixes for the diagnostics that touch a range of a file: a hint that names one
 * word ("did you mean 'X'?", "write 'X'") replaces the word the diagnostic is about,
 * the whole of its span, or the misspelt end of it (`150mz` → `150ms`).
 */
export function quickFixes(analysis: Analysis, file: string, range: { line: number; endLine: number }): QuickFix[] {
  const fixes: QuickFix[] = [];
  for (const d of analysis.result.diagnostics) {
    if (d.span.file.name !== file) continue;
    const info = diagnosticInfo(d);
    if (info.endLine < range.line || info.line > range.endLine) continue;
    const written = d.span.file.text.slice(d.span.start, d.span.end);
    if (!WORD.test(written)) continue;
    for (const hint of d.hints) {
      const replacement = /^did you mean '([^']+)'\?$/.exec(hint)?.[1] ?? /^(?:keywords are lower-case: )?write '([^' ]+)'$/.exec(hint)?.[1];
      if (replacement === undefined || !WORD.test(replacement)) continue;
      // The word the message quotes, when the span holds more (a number and its unit).
      const quoted = /'([^']+)'/.exec(d.message)?.[1];
      const start = quoted !== undefined && quoted !== written && written.endsWith(quoted) ? d.span.end - quoted.length : d.span.start;
      const at = locationOf({ file: d.span.file, start, end: d.span.end });
      fixes.push({ title: `Change to '${replacement}'`, diagnostic: info, range: at, newText: replacement });
    }
  }
  return fixes;
}
