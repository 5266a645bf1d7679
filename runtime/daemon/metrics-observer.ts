// What the daemon tells whoever watches it (the Prometheus metrics of `run --metrics`).
// The daemon and the executor hold it as an optional field and call it with `?.`: with
// metrics off nothing is computed or allocated per event.
import type { ConnectionTable } from "../../compiler/connections.js";
import type { InterfaceTracker, PolicyEvent } from "../netlink/index.js";

/** What an observer may read, handed over once the daemon follows events. */
export interface DaemonView {
  readonly table: ConnectionTable;
  readonly tracker: InterfaceTracker;
  /** The running policy's path manager strategy. */
  strategy(): string;
}

export interface DaemonObserver {
  /** The daemon follows events (start done). */
  started(view: DaemonView): void;
  /** A kernel or interface event, after the connection table took it in. */
  event(event: PolicyEvent): void;
  /** A rule matched an event; `rule` is `file:line`. */
  ruleFired(rule: string): void;
  /** An action ended with `result` ("ok", "dry-run", an errno name...); `sinceMs` is when its event arrived (Date.now()). */
  action(op: string, result: string, sinceMs: number): void;
  /** The kernel refused a request (`command`: SUBFLOW_CREATE, ADD_ADDR...). */
  kernelError(command: string, errno: string): void;
  /** The connection table was rebuilt from sock_diag. */
  resync(cause: string): void;
  /** A policy (these files) is in force, at start or after a reload. */
  policyLoaded(files: readonly string[]): void;
  /** A reload was rejected: the running policy stays. */
  reloadFailed(): void;
  /** The daemon stops. */
  stopped(): void;
}
