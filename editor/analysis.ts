// What the check worker computes, as plain functions (tested in Node too): the
// language service's analysis of the editor's files (language/service/: the same
// front end, diagnostics and names as `check` and `mptcp-policy lsp`), and the back
// ends' output once the policy has no errors.
import { explainPolicy } from "../compiler/explain.js";
import type { PolicyModel } from "../compiler/model.js";
import type { CompileResult } from "../compiler/pipeline.js";
import { planPolicy } from "../compiler/plan.js";
import {
  analyzePolicy,
  definitionAt,
  diagnosticsOf,
  outlineAt,
  quickFixes,
  referencesAt,
  renameAt,
  renameTarget,
  type Analysis,
} from "../language/service/index.js";
import type { DeclaredNames, Outputs, PlaygroundDiagnostic, PolicyText, ServiceRequest } from "./protocol.js";
import { generateBpf } from "./scheduler-support.js";

export { formatText } from "../language/service/index.js";

export interface Checked {
  readonly analysis: Analysis;
  readonly result: CompileResult;
  readonly diagnostics: PlaygroundDiagnostic[];
  readonly names: DeclaredNames;
}

export function checkFiles(files: readonly PolicyText[]): Checked {
  const analysis = analyzePolicy(files, { model: true });
  return { analysis, result: analysis.result, diagnostics: diagnosticsOf(analysis), names: analysis.names };
}

export function outputsOf(model: PolicyModel): Outputs {
  const plan = planPolicy(model);
  return { plan, explain: explainPolicy(model, plan), bpf: generateBpf(model) };
}

/** The language service's answer to an editor request, as `mptcp-policy lsp` gives it (plain data). */
export function serve(analysis: Analysis, request: ServiceRequest): unknown {
  switch (request.kind) {
    case "definition":
      return definitionAt(analysis, request.file, request.position);
    case "references":
      return referencesAt(analysis, request.file, request.position);
    case "highlights":
      return referencesAt(analysis, request.file, request.position).filter((l) => l.file === request.file);
    case "renameTarget":
      return renameTarget(analysis, request.file, request.position) ?? null;
    case "rename":
      return renameAt(analysis, request.file, request.position, request.newName);
    case "quickFixes":
      return quickFixes(analysis, request.file, request);
    case "outline":
      return outlineAt(analysis, request.file);
  }
}
