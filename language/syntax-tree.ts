// The typed syntax tree: a discriminated union on `kind`, each node with its span.
// Parentheses leave no node behind; the formatter puts back the ones precedence needs.
import type { Comparison } from "./vocabulary.js";
import type { SourceFile, Span } from "./source.js";

interface NodeBase {
  readonly span: Span;
}

/** An identifier as written; the checker decides what it names. */
export interface Name extends NodeBase {
  readonly kind: "Name";
  readonly text: string;
}

export interface StringLiteral extends NodeBase {
  readonly kind: "String";
  readonly value: string;
  readonly terminated: boolean;
}

/** A number with an optional unit suffix, as written (`150ms`, `4`, `1.5s`). */
export interface NumberLiteral extends NodeBase {
  readonly kind: "Number";
  readonly text: string;
  readonly value: number;
  readonly unit: string | undefined;
}

/** An IPv4 or IPv6 address or prefix, checked by the checker. */
export interface AddressLiteral extends NodeBase {
  readonly kind: "Address";
  readonly text: string;
}

export interface PolicyFile {
  readonly kind: "File";
  readonly file: SourceFile;
  readonly statements: readonly Statement[];
  /** Comments, kept for the formatter. */
  readonly comments: readonly Comment[];
}

export interface Comment extends NodeBase {
  readonly kind: "Comment";
  readonly text: string;
}

export type Statement = InterfaceDecl | LimitsDecl | EndpointDecl | Rule | SchedulerDecl | MptcpDecl | IsolateDecl;

export interface InterfaceDecl extends NodeBase {
  readonly kind: "Interface";
  readonly name: Name;
  readonly patterns: readonly StringLiteral[];
}

export interface LimitEntry extends NodeBase {
  readonly kind: "Limit";
  readonly name: Name;
  readonly value: NumberLiteral;
}

export interface LimitsDecl extends NodeBase {
  readonly kind: "Limits";
  readonly entries: readonly LimitEntry[];
}

export interface EndpointDecl extends NodeBase {
  readonly kind: "Endpoint";
  readonly target: Name | AddressLiteral;
  readonly flags: readonly Name[];
  readonly port: NumberLiteral | undefined;
}

export interface Rule extends NodeBase {
  readonly kind: "Rule";
  readonly event: Name;
  /** `on iface_down wifi`: the interface named right after the event. */
  readonly iface: Name | undefined;
  readonly condition: Condition | undefined;
  readonly actions: readonly Action[];
}

export interface SchedulerDecl extends NodeBase {
  readonly kind: "Scheduler";
  readonly name: Name;
  readonly selector: Condition | undefined;
  readonly steps: readonly Step[];
}

/** `mptcp for CONDITION`: which programs' TCP sockets become MPTCP when created; several add up. */
export interface MptcpDecl extends NodeBase {
  readonly kind: "Mptcp";
  readonly condition: Condition;
}

/** `isolate IFACE, ...`: one zone; a connection's subflows stay in the zone of its first subflow. */
export interface IsolateDecl extends NodeBase {
  readonly kind: "Isolate";
  readonly interfaces: readonly Name[];
}

export type StepMode = "use" | "use_any" | "redundant" | "round_robin";

export interface Step extends NodeBase {
  readonly kind: "Step";
  readonly mode: StepMode;
  readonly where: Condition | undefined;
  readonly order: Ordering | undefined;
}

export interface Ordering extends NodeBase {
  readonly kind: "Ordering";
  readonly direction: "lowest" | "highest";
  readonly metric: Name;
}

// Conditions

export type Condition = AndCondition | OrCondition | NotCondition | Predicate;
export type Predicate =
  | IfaceCondition
  | AddressCondition
  | PortCondition
  | FamilyCondition
  | SideCondition
  | FlagCondition
  | ErrorCondition
  | CompareCondition
  | ProcessCondition;

export interface AndCondition extends NodeBase {
  readonly kind: "And";
  readonly operands: readonly Condition[];
}

export interface OrCondition extends NodeBase {
  readonly kind: "Or";
  readonly operands: readonly Condition[];
}

export interface NotCondition extends NodeBase {
  readonly kind: "Not";
  readonly operand: Condition;
}

/** `iface wifi` or `iface in (wifi, lte)`. */
export interface IfaceCondition extends NodeBase {
  readonly kind: "Iface";
  readonly names: readonly Name[];
  readonly list: boolean;
}

/** `local in PREFIX` / `remote in (PREFIX, ...)`. */
export interface AddressCondition extends NodeBase {
  readonly kind: "AddressIn";
  readonly side: "local" | "remote";
  readonly prefixes: readonly AddressLiteral[];
  readonly list: boolean;
}

/** `remote port 443`, `local port < 1024`. */
export interface PortCondition extends NodeBase {
  readonly kind: "Port";
  readonly side: "local" | "remote";
  readonly op: Comparison;
  /** Whether the operator was written (`remote port == 443`) or implied. */
  readonly explicitOp: boolean;
  readonly value: NumberLiteral;
}

export interface FamilyCondition extends NodeBase {
  readonly kind: "Family";
  readonly value: Name;
}

export interface SideCondition extends NodeBase {
  readonly kind: "Side";
  readonly value: Name;
}

/** A bare flag: `backup`, `active`, or a word such as `stale`. */
export interface FlagCondition extends NodeBase {
  readonly kind: "Flag";
  readonly name: Name;
}

export interface ErrorCondition extends NodeBase {
  readonly kind: "Error";
  readonly value: Name | NumberLiteral;
}

/** `subflows < 4`, `rtt < 150ms`. */
export interface CompareCondition extends NodeBase {
  readonly kind: "Compare";
  readonly subject: Name;
  readonly op: Comparison;
  readonly value: NumberLiteral;
}

/** What the task creating a socket is: `program "curl"`, `unit "nginx.service"`, `cgroup "/x"`, `user 1000`. */
export interface ProcessCondition extends NodeBase {
  readonly kind: "Process";
  readonly test: "program" | "unit" | "cgroup" | "user";
  readonly value: StringLiteral | NumberLiteral;
}

// Actions

export type Action = CreateAction | DestroyAction | AnnounceAction | WithdrawAction | SetAction | LogAction;

interface ActionBase extends NodeBase {
  readonly after: NumberLiteral | undefined;
  /**
   * `retry N`, written after the action like `after` (either comes first). The grammar
   * takes it on every action so that the checker can say it belongs to `create` only
   * (E212); absent when not written.
   */
  readonly retry?: NumberLiteral | undefined;
}

export interface CreateAction extends ActionBase {
  readonly kind: "Create";
  readonly via: Name | undefined;
  readonly from: AddressLiteral | undefined;
  /** An address, or the words `announced` / `remote`. */
  readonly to: AddressLiteral | Name | undefined;
  readonly port: NumberLiteral | undefined;
  readonly backup: boolean;
}

export interface DestroyAction extends ActionBase {
  readonly kind: "Destroy";
  readonly via: Name | undefined;
}

export interface AnnounceAction extends ActionBase {
  readonly kind: "Announce";
  readonly target: Name | AddressLiteral;
  readonly port: NumberLiteral | undefined;
}

export interface WithdrawAction extends ActionBase {
  readonly kind: "Withdraw";
  readonly target: Name | AddressLiteral;
}

export interface SetAction extends ActionBase {
  readonly kind: "Set";
  readonly iface: Name;
  readonly value: "backup" | "active";
}

export interface LogAction extends ActionBase {
  readonly kind: "Log";
  readonly message: StringLiteral;
}

export type SyntaxNode =
  | PolicyFile
  | Statement
  | LimitEntry
  | Step
  | Ordering
  | Condition
  | Action
  | Name
  | StringLiteral
  | NumberLiteral
  | AddressLiteral
  | Comment;

export const isName = (node: { kind: string }): node is Name => node.kind === "Name";
export const isAddress = (node: { kind: string }): node is AddressLiteral => node.kind === "Address";
export const isPredicate = (node: Condition): node is Predicate =>
  node.kind !== "And" && node.kind !== "Or" && node.kind !== "Not";
export const isRule = (node: Statement): node is Rule => node.kind === "Rule";
export const isScheduler = (node: Statement): node is SchedulerDecl => node.kind === "Scheduler";
export const isMptcp = (node: Statement): node is MptcpDecl => node.kind === "Mptcp";
export const isIsolate = (node: Statement): node is IsolateDecl => node.kind === "Isolate";
