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
  /** How many rules the running policy has. */
  rules(): number;
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
  /** A subflow across a zone (`isolate`) was closed: one the peer opened (`join`), or found at start, reload or resync. */
  zoneClosed?(cause: string): void;
}

/** One observer for several (metrics and systemd); undefined when there is none, so the daemon spends nothing. */
export function combineObservers(list: readonly (DaemonObserver | undefined)[]): DaemonObserver | undefined {
  const present = list.filter((o): o is DaemonObserver => o !== undefined);
  if (present.length <= 1) return present[0];
  return {
    started: (view) => present.forEach((o) => o.started(view)),
    event: (event) => present.forEach((o) => o.event(event)),
    ruleFired: (rule) => present.forEach((o) => o.ruleFired(rule)),
    action: (op, result, since) => present.forEach((o) => o.action(op, result, since)),
    kernelError: (command, errno) => present.forEach((o) => o.kernelError(command, errno)),
    resync: (cause) => present.forEach((o) => o.resync(cause)),
    policyLoaded: (files) => present.forEach((o) => o.policyLoaded(files)),
    reloadFailed: () => present.forEach((o) => o.reloadFailed()),
    stopped: () => present.forEach((o) => o.stopped()),
    zoneClosed: (cause) => present.forEach((o) => o.zoneClosed?.(cause)),
  };
}
