// The checker's passes, in order. Declarations come first because every later pass
// resolves names against them; the lints come last because they only make sense on
// rules that are otherwise valid and they read which interfaces were used.
import type { Diagnostic } from "../diagnostics.js";
import type { PolicyFile } from "../syntax-tree.js";
import type { CheckContext, CheckPass, Symbols } from "./context.js";
import { collectDeclarations } from "./declarations.js";
import { checkKernelDeclarations } from "./declarations-kernel.js";
import { lintRules } from "./lints.js";
import { checkProgramSelections } from "./program-selection.js";
import { checkRules } from "./rules.js";
import { checkSchedulers } from "./schedulers.js";
import { checkZones } from "./zones.js";

const PASSES: readonly CheckPass[] = [collectDeclarations, checkKernelDeclarations, checkRules, checkSchedulers, checkProgramSelections, checkZones, lintRules];

export function checkPolicy(files: readonly PolicyFile[]): { diagnostics: Diagnostic[]; symbols: Symbols } {
  const diagnostics: Diagnostic[] = [];
  const symbols: Symbols = { interfaces: new Map(), schedulers: new Map(), usedInterfaces: new Set() };
  const context: CheckContext = { files, symbols, report: (d) => diagnostics.push(d) };
  for (const pass of PASSES) pass(context);
  return { diagnostics, symbols };
}
