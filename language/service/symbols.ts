// The names a policy declares and every place that uses them, across its files:
// what go to definition, find references, rename, hover, semantic tokens and the
// outline need. Interface names are used where the grammar puts an interface (the
// same places the checker resolves, checker/references.ts); scheduler names are only
// declared (the kernel selects a scheduler by its name).
import type { Span } from "../source.js";
import type { InterfaceDecl, Name, PolicyFile, SchedulerDecl } from "../syntax-tree.js";
import { walk } from "../visitor.js";

export type SymbolKind = "interface" | "scheduler";

export interface Declaration {
  readonly kind: SymbolKind;
  readonly name: string;
  /** The name as written in the declaration. */
  readonly span: Span;
  readonly statement: InterfaceDecl | SchedulerDecl;
}

export interface Occurrence {
  readonly kind: SymbolKind;
  readonly name: string;
  readonly span: Span;
  readonly declaration: boolean;
}

export interface SymbolIndex {
  /** Every declaration in file order (a name declared twice is here twice: E101). */
  readonly declarations: readonly Declaration[];
  /** Declarations and uses, per file name, in source order. */
  readonly occurrences: ReadonlyMap<string, readonly Occurrence[]>;
}

export function indexSymbols(files: readonly PolicyFile[]): SymbolIndex {
  const declarations: Declaration[] = [];
  const occurrences = new Map<string, Occurrence[]>();
  for (const file of files) {
    const here: Occurrence[] = [];
    const use = (name: Name | { kind: string } | undefined): void => {
      if (name !== undefined && name.kind === "Name")
        here.push({ kind: "interface", name: (name as Name).text, span: (name as Name).span, declaration: false });
    };
    walk(file, {
      Interface: (node) => {
        declarations.push({ kind: "interface", name: node.name.text, span: node.name.span, statement: node });
        here.push({ kind: "interface", name: node.name.text, span: node.name.span, declaration: true });
      },
      Scheduler: (node) => {
        declarations.push({ kind: "scheduler", name: node.name.text, span: node.name.span, statement: node });
        here.push({ kind: "scheduler", name: node.name.text, span: node.name.span, declaration: true });
      },
      Rule: (node) => use(node.iface),
      Endpoint: (node) => use(node.target),
      Iface: (node) => node.names.forEach(use),
      Create: (node) => use(node.via),
      Destroy: (node) => use(node.via),
      Announce: (node) => use(node.target),
      Withdraw: (node) => use(node.target),
      Set: (node) => use(node.iface),
      Isolate: (node) => node.interfaces.forEach(use),
    });
    here.sort((a, b) => a.span.start - b.span.start);
    occurrences.set(file.file.name, here);
  }
  return { declarations, occurrences };
}

/** The declaration or use of a name at an offset of a file (its end included, as editors place the cursor). */
export function occurrenceAt(index: SymbolIndex, file: string, offset: number): Occurrence | undefined {
  return index.occurrences.get(file)?.find((o) => o.span.start <= offset && offset <= o.span.end);
}

export function declarationsOf(index: SymbolIndex, kind: SymbolKind, name: string): Declaration[] {
  return index.declarations.filter((d) => d.kind === kind && d.name === name);
}

/** Every occurrence of a name, declarations included, file by file in the policy's order. */
export function occurrencesOf(index: SymbolIndex, kind: SymbolKind, name: string): Occurrence[] {
  return [...index.occurrences.values()].flatMap((list) => list.filter((o) => o.kind === kind && o.name === name));
}
