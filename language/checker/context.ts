// What the checker passes share: the files, the declared names, and the one list of
// diagnostics every pass reports into.
import type { Diagnostic } from "../diagnostics.js";
import type { InterfaceDecl, PolicyFile, SchedulerDecl } from "../syntax-tree.js";

export interface Symbols {
  /** First declaration of each interface name. */
  readonly interfaces: Map<string, InterfaceDecl>;
  readonly schedulers: Map<string, SchedulerDecl>;
  /** Interface names some statement refers to (for the unused-interface warning). */
  readonly usedInterfaces: Set<string>;
}

export interface CheckContext {
  readonly files: readonly PolicyFile[];
  readonly symbols: Symbols;
  report(diagnostic: Diagnostic): void;
}

export type CheckPass = (context: CheckContext) => void;
