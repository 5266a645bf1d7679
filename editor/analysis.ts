// What the check worker computes, as plain functions (tested in Node too): the real
// front end on the editor's files, diagnostics in the shape the page shows, the
// declared names, and the back ends' output once the policy has no errors.
import { explainPolicy } from "../compiler/explain.js";
import type { PolicyModel } from "../compiler/model.js";
import { compilePolicy, type CompileResult } from "../compiler/pipeline.js";
import { planPolicy } from "../compiler/plan.js";
import { hasErrors, type Diagnostic } from "../language/diagnostics.js";
import { formatFile } from "../language/formatter.js";
import { parseFile } from "../language/parse.js";
import { positionAt, sourceFile, type Span } from "../language/source.js";
import type { DeclaredNames, Location, Outputs, PlaygroundDiagnostic, PolicyText } from "./protocol.js";
import { generateBpf } from "./scheduler-support.js";

export interface Checked {
  readonly result: CompileResult;
  readonly diagnostics: PlaygroundDiagnostic[];
  readonly names: DeclaredNames;
}

export function checkFiles(files: readonly PolicyText[]): Checked {
  const result = compilePolicy(files);
  return { result, diagnostics: result.diagnostics.map(toPlayground), names: declaredNames(result) };
}

function location(at: Span): Location {
  const start = positionAt(at.file, at.start);
  const end = positionAt(at.file, at.end);
  return { file: at.file.name, line: start.line, column: start.column, endLine: end.line, endColumn: end.column };
}

export function toPlayground(d: Diagnostic): PlaygroundDiagnostic {
  return {
    ...location(d.span),
    severity: d.severity,
    code: d.code,
    message: d.message,
    hints: d.hints,
    related: d.related.map((r) => ({ ...location(r.span), message: r.message })),
  };
}

export function declaredNames(result: CompileResult): DeclaredNames {
  const interfaces: { name: string; patterns: string[]; file: string; line: number }[] = [];
  const schedulers: { name: string; file: string; line: number }[] = [];
  for (const file of result.files) {
    for (const statement of file.statements) {
      if (statement.kind === "Interface") {
        interfaces.push({
          name: statement.name.text,
          patterns: statement.patterns.map((p) => p.value),
          file: file.file.name,
          line: positionAt(file.file, statement.span.start).line,
        });
      } else if (statement.kind === "Scheduler") {
        schedulers.push({ name: statement.name.text, file: file.file.name, line: positionAt(file.file, statement.span.start).line });
      }
    }
  }
  return { interfaces, schedulers };
}

export function outputsOf(model: PolicyModel): Outputs {
  const plan = planPolicy(model);
  return { plan, explain: explainPolicy(model, plan), bpf: generateBpf(model) };
}

/** The formatter's text for one file, or why it cannot be formatted (as `fmt` refuses). */
export function formatText(file: PolicyText): { text: string } | { error: string } {
  const parsed = parseFile(sourceFile(file.name, file.text));
  if (hasErrors(parsed.diagnostics)) return { error: `${file.name} has syntax errors: fix them first, then format` };
  return { text: formatFile(parsed.tree) };
}
