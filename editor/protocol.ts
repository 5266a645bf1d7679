// The messages between the page and the check worker. Everything is plain data
// (structured clone): diagnostics as 1-based positions, the plan as its JSON.
import type { Plan } from "../compiler/plan.js";
import type { Severity } from "../language/diagnostics.js";
import type { SimulationResult } from "./simulate.js";

export interface PolicyText {
  readonly name: string;
  readonly text: string;
}

export interface Location {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
}

export interface PlaygroundDiagnostic extends Location {
  readonly severity: Severity;
  readonly code: string;
  readonly message: string;
  readonly hints: readonly string[];
  readonly related: readonly (Location & { readonly message: string })[];
}

/** Names the policy declares, for completion and hover (found even with errors). */
export interface DeclaredNames {
  readonly interfaces: readonly { readonly name: string; readonly patterns: readonly string[]; readonly file: string; readonly line: number }[];
  readonly schedulers: readonly { readonly name: string; readonly file: string; readonly line: number }[];
}

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

export type ToWorker =
  | { readonly type: "check"; readonly version: number; readonly files: readonly PolicyText[] }
  /** The back ends' output and the simulator's, for the version last checked (asked for once typing pauses). */
  | { readonly type: "outputs"; readonly version: number }
  /** The simulator's inputs; kept by the worker and run again after every check. */
  | { readonly type: "inputs"; readonly events: readonly unknown[]; readonly snapshot: unknown }
  | { readonly type: "format"; readonly id: number; readonly file: PolicyText };

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
  | { readonly type: "crashed"; readonly message: string };
