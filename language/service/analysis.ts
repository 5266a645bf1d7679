// One check of one policy, as every editor feature sees it: the files of the policy
// (a directory's *.policy files, or one file), run through the front end that
// `mptcp-policy check` runs (compiler/pipeline.ts), so an editor can never say
// something else than the command. The features (completion.ts, navigation.ts, ...)
// are pure functions of an Analysis and a position. Browser-safe: the playground's
// worker and `mptcp-policy lsp` are its two hosts.
import { compilePolicy, type CompileResult } from "../../compiler/pipeline.js";
import { positionAt, type SourceFile, type Span } from "../source.js";
import type { PolicyFile } from "../syntax-tree.js";
import { indexSymbols, type SymbolIndex } from "./symbols.js";

/** A file of a policy, by the name its host gives it (a base name in a directory). */
export interface PolicyText {
  readonly name: string;
  readonly text: string;
}

/** A range in a file, 1-based lines and columns (UTF-16 code units), end exclusive. */
export interface Location {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
}

/** A 1-based line and column. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/** Names the policy declares, for completion and hover (found even with errors). */
export interface DeclaredNames {
  readonly interfaces: readonly { readonly name: string; readonly patterns: readonly string[]; readonly file: string; readonly line: number }[];
  readonly schedulers: readonly { readonly name: string; readonly file: string; readonly line: number }[];
}

export interface Analysis {
  /** The front end's result: trees, diagnostics (sorted, capped), the model if asked for. */
  readonly result: CompileResult;
  readonly texts: ReadonlyMap<string, string>;
  readonly trees: ReadonlyMap<string, PolicyFile>;
  readonly symbols: SymbolIndex;
  readonly names: DeclaredNames;
}

/**
 * Check the files of one policy together. `model: true` also builds the checked
 * model (the playground's back ends need it); an editor needs only the diagnostics.
 */
export function analyzePolicy(files: readonly PolicyText[], options: { readonly model?: boolean } = {}): Analysis {
  const result = compilePolicy(files, { model: options.model ?? false });
  const trees = new Map(result.files.map((f) => [f.file.name, f]));
  const symbols = indexSymbols(result.files);
  return { result, texts: new Map(files.map((f) => [f.name, f.text])), trees, symbols, names: declaredNames(symbols) };
}

export function locationOf(at: Span): Location {
  return rangeIn(at.file, at.start, at.end);
}

export function rangeIn(file: SourceFile, start: number, end: number): Location {
  const from = positionAt(file, start);
  const to = positionAt(file, end);
  return { file: file.name, line: from.line, column: from.column, endLine: to.line, endColumn: to.column };
}

/** The offset of a 1-based position in a text (clamped to the line and the text). */
export function offsetAt(text: string, position: Position): number {
  let offset = 0;
  for (let line = 1; line < position.line; line++) {
    const next = text.indexOf("\n", offset);
    if (next < 0) return text.length;
    offset = next + 1;
  }
  const lineEnd = text.indexOf("\n", offset);
  const end = lineEnd < 0 ? text.length : lineEnd;
  return Math.min(offset + Math.max(0, position.column - 1), end);
}

function declaredNames(symbols: SymbolIndex): DeclaredNames {
  const interfaces: { name: string; patterns: string[]; file: string; line: number }[] = [];
  const schedulers: { name: string; file: string; line: number }[] = [];
  for (const symbol of symbols.declarations) {
    const at = positionAt(symbol.statement.span.file, symbol.statement.span.start);
    if (symbol.statement.kind === "Interface")
      interfaces.push({ name: symbol.name, patterns: symbol.statement.patterns.map((p) => p.value), file: symbol.statement.span.file.name, line: at.line });
    else if (symbol.statement.kind === "Scheduler") schedulers.push({ name: symbol.name, file: symbol.statement.span.file.name, line: at.line });
  }
  return { interfaces, schedulers };
}
