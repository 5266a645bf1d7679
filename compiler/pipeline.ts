// The front end every command shares: parse each file, check them together as one
// policy, and build the model only when there is no error. Stages stop early the way
// bpftrace's pass manager does: back ends never see a policy with errors.
import type { Code } from "../language/codes.js";
import { checkPolicy } from "../language/checker/pipeline.js";
import { error, hasErrors, type Diagnostic } from "../language/diagnostics.js";
import { parseFile } from "../language/parse.js";
import { sourceFile, span, type SourceFile } from "../language/source.js";
import type { PolicyFile } from "../language/syntax-tree.js";
import { buildModel } from "./build-model.js";
import type { PolicyModel } from "./model.js";

export interface PolicySource {
  readonly name: string;
  readonly text: string;
}

export interface CompileResult {
  readonly files: readonly PolicyFile[];
  /** Sorted by file, then position; at most MAX_PER_FILE per file. */
  readonly diagnostics: readonly Diagnostic[];
  /** Present only when there are no errors. */
  readonly model: PolicyModel | undefined;
}

/** Past this many findings in one file the rest is noise (a binary file, say). */
export const MAX_PER_FILE = 100;

export function compilePolicy(sources: readonly PolicySource[]): CompileResult {
  const ordered = [...sources].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const parsed = ordered.map((s) => parseFile(sourceFile(s.name, s.text)));
  const files = parsed.map((p) => p.tree);
  const syntax = parsed.flatMap((p) => p.diagnostics);
  // With syntax errors some statements are missing, so findings that depend on seeing
  // the whole policy (undeclared, unused, shadowed) would be false; the rest still count.
  const partial = hasErrors(syntax);
  const checked = checkPolicy(files).diagnostics.filter((d) => !partial || !NEEDS_WHOLE_POLICY.has(d.code));
  const diagnostics = capPerFile(sortDiagnostics([...syntax, ...checked]));
  const model = hasErrors(diagnostics) ? undefined : buildModel(files);
  return { files, diagnostics, model };
}

const NEEDS_WHOLE_POLICY: ReadonlySet<Code> = new Set(["E100", "E500", "W601", "W602"]);

function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.sort((a, b) => (a.span.file.name < b.span.file.name ? -1 : a.span.file.name > b.span.file.name ? 1 : a.span.start - b.span.start));
}

function capPerFile(diagnostics: Diagnostic[]): Diagnostic[] {
  const counts = new Map<SourceFile, number>();
  const out: Diagnostic[] = [];
  for (const d of diagnostics) {
    const count = (counts.get(d.span.file) ?? 0) + 1;
    counts.set(d.span.file, count);
    if (count <= MAX_PER_FILE) out.push(d);
    else if (count === MAX_PER_FILE + 1) {
      out.push(error("E005", span(d.span.file, d.span.start, d.span.start), `more than ${MAX_PER_FILE} problems in this file; the rest are not shown`, { hints: ["is this a policy file?"] }));
    }
  }
  return out;
}
