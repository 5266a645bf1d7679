// The checked, name-resolved policy model: the one input of every back end (plan,
// BPF C, explain, simulator). Plain data, JSON-serialisable, values in base units
// (µs, bytes, bytes per second), every element with the source position users see.
import type { Comparison, EndpointFlag, MetricName } from "../language/vocabulary.js";

export interface SourceRef {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export interface PolicyModel {
  readonly interfaces: readonly InterfaceModel[];
  readonly limits: LimitsModel;
  readonly endpoints: readonly EndpointModel[];
  /** In source order (files by name, then lines): the first matching rule for an event fires. */
  readonly rules: readonly RuleModel[];
  /** In source order: the first scheduler whose `for` matches serves a connection. */
  readonly schedulers: readonly SchedulerModel[];
  /**
   * `mptcp for CONDITION` statements, in source order: a TCP socket becomes MPTCP when
   * it is created if any of them matches (compiler/programs/). Absent in models made
   * before the statement existed: read it through `selectionsOf`.
   */
  readonly selections?: readonly SelectionModel[];
  /**
   * `isolate IFACE, ...` statements, in source order: each is one zone, and the
   * interfaces none names are the default zone (compiler/zones.ts). Absent without any.
   */
  readonly zones?: readonly ZoneModel[];
}

export interface ZoneModel {
  /** Policy interface names. */
  readonly interfaces: readonly string[];
  readonly at: SourceRef;
}

export function zonesOf(model: PolicyModel): readonly ZoneModel[] {
  return model.zones ?? [];
}

export interface SelectionModel {
  readonly condition: ConditionModel;
  readonly at: SourceRef;
}

export function selectionsOf(model: PolicyModel): readonly SelectionModel[] {
  return model.selections ?? [];
}

export interface InterfaceModel {
  readonly name: string;
  /** Kernel interface names or glob patterns (`*`, `?`, `[..]`). */
  readonly patterns: readonly string[];
  readonly at: SourceRef;
}

export interface LimitsModel {
  readonly subflows?: number;
  readonly addAddrAccepted?: number;
  readonly at?: SourceRef;
}

export interface AddressModel {
  readonly family: "ipv4" | "ipv6";
  readonly address: string;
}

export interface PrefixModel extends AddressModel {
  readonly prefixLength: number;
}

export interface EndpointModel {
  readonly target: { readonly iface: string } | { readonly address: AddressModel };
  readonly flags: readonly EndpointFlag[];
  readonly port?: number;
  readonly at: SourceRef;
}

export interface RuleModel {
  /** 0-based position among all rules, stable for one policy. */
  readonly index: number;
  readonly event: string;
  readonly iface?: string;
  readonly condition?: ConditionModel;
  readonly actions: readonly ActionModel[];
  readonly at: SourceRef;
}

export type ConditionModel =
  | { readonly op: "and" | "or"; readonly operands: readonly ConditionModel[] }
  | { readonly op: "not"; readonly operand: ConditionModel }
  | { readonly op: "iface"; readonly names: readonly string[] }
  | { readonly op: "address"; readonly side: "local" | "remote"; readonly prefixes: readonly PrefixModel[] }
  | { readonly op: "port"; readonly side: "local" | "remote"; readonly cmp: Comparison; readonly value: number }
  | { readonly op: "family"; readonly value: "ipv4" | "ipv6" }
  | { readonly op: "side"; readonly value: "client" | "server" }
  | { readonly op: "backup" | "active" | "stale" }
  | { readonly op: "error"; readonly errno: number; readonly name?: string }
  | { readonly op: "subflows"; readonly cmp: Comparison; readonly value: number }
  | { readonly op: "metric"; readonly metric: MetricName; readonly cmp: Comparison; readonly value: number }
  /** The process creating a socket: only in `mptcp for`. */
  | { readonly op: "program"; readonly pattern: string }
  | { readonly op: "unit"; readonly name: string }
  | { readonly op: "cgroup"; readonly path: string }
  | { readonly op: "user"; readonly uid: number };

interface ActionBase {
  /** Delay before the action is carried out, in microseconds (0: at once). */
  readonly afterUs: number;
  readonly at: SourceRef;
}

export type ActionModel =
  | (ActionBase & {
      readonly op: "create";
      readonly via?: string;
      readonly from?: AddressModel;
      /** Where the subflow goes: an address, the just-announced address, or the connection's remote. */
      readonly to: { readonly address: AddressModel } | "announced" | "remote";
      readonly port?: number;
      readonly backup: boolean;
      /** `retry N`: tried again up to N more times when its subflow fails to open (compiler/retries.ts). */
      readonly retry?: number;
    })
  | (ActionBase & { readonly op: "destroy"; readonly via?: string })
  | (ActionBase & { readonly op: "announce"; readonly target: { readonly iface: string } | { readonly address: AddressModel }; readonly port?: number })
  | (ActionBase & { readonly op: "withdraw"; readonly target: { readonly iface: string } | { readonly address: AddressModel } })
  | (ActionBase & { readonly op: "set"; readonly iface: string; readonly backup: boolean })
  | (ActionBase & { readonly op: "log"; readonly message: string });

export interface SchedulerModel {
  readonly name: string;
  readonly selector?: ConditionModel;
  readonly steps: readonly StepModel[];
  readonly at: SourceRef;
}

export interface StepModel {
  readonly mode: "use" | "use_any" | "redundant" | "round_robin";
  readonly where?: ConditionModel;
  /** For `use`: the subflow with the lowest or highest value wins (default lowest rtt). */
  readonly order?: { readonly direction: "lowest" | "highest"; readonly metric: MetricName };
  readonly at: SourceRef;
}
