// The messages between the page and the check worker. Everything is plain data
// (structured clone): diagnostics as 1-based positions, the plan as its JSON.
import type { Plan } from "../compiler/plan.js";
import type { DeclaredNames, DiagnosticInfo as PlaygroundDiagnostic, PolicyText, Position } from "../language/service/index.js";
import type { SimulationResult } from "./simulate.js";

export type { DeclaredNames, Location, PolicyText } from "../language/service/index.js";
/** A diagnostic as the page shows it: the language service's, by file name, 1-based. */
export type { DiagnosticInfo as PlaygroundDiagnostic } from "../language/service/index.js";

/** The back ends' output for a policy without errors. */
export interface Outputs {
  readonly plan: Plan;
  readonly explain: string;
  /** The BPF object's C files (generated ones marked), or why there are none. */
  readonly bpf:
    | {
        readonly available: true;
        readonly files: readonly { readonly name: string; readonly text: string; readonly generated: boolean }[];
        readonly problems: readonly string[];
      }
    | { readonly available: false; readonly reason: string };
}

/** What the editor asks of the language service (the worker answers on the text it is sent). */
export type ServiceRequest =
  | { readonly kind: "definition" | "references" | "highlights"; readonly file: string; readonly position: Position }
  | { readonly kind: "renameTarget"; readonly file: string; readonly position: Position }
  | { readonly kind: "rename"; readonly file: string; readonly position: Position; readonly newName: string }
  | { readonly kind: "quickFixes"; readonly file: string; readonly line: number; readonly endLine: number }
  | { readonly kind: "outline"; readonly file: string };

export type ToWorker =
  | { readonly type: "check"; readonly version: number; readonly files: readonly PolicyText[] }
  /** The back ends' output and the simulator's, for the version last checked (asked for once typing pauses). */
  | { readonly type: "outputs"; readonly version: number }
  /** The simulator's inputs; kept by the worker and run again after every check. */
  | { readonly type: "inputs"; readonly events: readonly unknown[]; readonly snapshot: unknown }
  | { readonly type: "format"; readonly id: number; readonly file: PolicyText }
  | { readonly type: "service"; readonly id: number; readonly version: number; readonly files: readonly PolicyText[]; readonly request: ServiceRequest };

export type FromWorker =
  | {
      readonly type: "checked";
      readonly version: number;
      readonly diagnostics: readonly PlaygroundDiagnostic[];
      readonly names: DeclaredNames;
      readonly ms: number;
    }
  | { readonly type: "outputs"; readonly version: number; readonly outputs: Outputs | undefined; readonly ms: number }
  | { readonly type: "simulated"; readonly version: number; readonly stale: boolean; readonly result: SimulationResult | undefined }
  | { readonly type: "formatted"; readonly id: number; readonly text?: string; readonly error?: string }
  | { readonly type: "served"; readonly id: number; readonly result: unknown }
  | { readonly type: "crashed"; readonly message: string };
