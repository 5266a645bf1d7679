// The front end every command shares: parse each file, check them together as one
// policy, and build the model only when there is no error. Stages stop early the way
// bpftrace's pass manager does: back ends never see a policy with errors.
import type { Code } from "../language/codes.js";
import { checkPolicy } from "../language/checker/pipeline.js";
import { error, hasErrors, warning, type Diagnostic } from "../language/diagnostics.js";
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
  /** Present only when there are no errors (and it was asked for). */
  readonly model: PolicyModel | undefined;
  /** Counts before the per-file cap, for summaries. */
  readonly counts: { readonly errors: number; readonly warnings: number };
}

/** Past this many findings in one file the rest is noise (a binary file, say). */
export const MAX_PER_FILE = 100;

/** `check` needs only the diagnostics: it skips building the model (`model: false`). */
export function compilePolicy(sources: readonly PolicySource[], options: { readonly model?: boolean } = {}): CompileResult {
  const ordered = [...sources].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const parsed = ordered.map((s) => parseFile(sourceFile(s.name, s.text)));
  const files = parsed.map((p) => p.tree);
  const syntax = parsed.flatMap((p) => p.diagnostics);
  // With syntax errors some statements are missing, so findings that depend on seeing
  // the whole policy (undeclared, unused, shadowed) would be false; the rest still count.
  const partial = hasErrors(syntax);
  const checked = checkPolicy(files).diagnostics.filter((d) => !partial || !NEEDS_WHOLE_POLICY.has(d.code));
  const all = sortDiagnostics([...syntax, ...checked]);
  const errors = all.filter((d) => d.severity === "error").length;
  const diagnostics = capPerFile(all);
  const model = errors > 0 || options.model === false ? undefined : buildModel(files);
  return { files, diagnostics, model, counts: { errors, warnings: all.length - errors } };
}

const NEEDS_WHOLE_POLICY: ReadonlySet<Code> = new Set(["E100", "E500", "E800", "E801", "W601", "W602", "W800"]);

function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.sort((a, b) => (a.span.file.name < b.span.file.name ? -1 : a.span.file.name > b.span.file.name ? 1 : a.span.start - b.span.start));
}

function capPerFile(diagnostics: Diagnostic[]): Diagnostic[] {
  const perFile = new Map<SourceFile, Diagnostic[]>();
  for (const d of diagnostics) {
    const list = perFile.get(d.span.file) ?? [];
    list.push(d);
    perFile.set(d.span.file, list);
  }
  return [...perFile.values()].flatMap((list) => {
    if (list.length <= MAX_PER_FILE) return list;
    const first = list[MAX_PER_FILE] as Diagnostic;
    const omitted = list.slice(MAX_PER_FILE);
    const more = omitted.length;
    // The note is as severe as the worst it hides: hidden warnings never fail a check.
    const hidesError = omitted.some((d) => d.severity === "error");
    const note = (hidesError ? error : warning)(hidesError ? "E005" : "W605", span(first.span.file, first.span.start, first.span.start), `${more} more problem${more === 1 ? "" : "s"} in this file not shown`, { hints: ["is this a policy file?"] });
    return [...list.slice(0, MAX_PER_FILE), note];
  });
}
