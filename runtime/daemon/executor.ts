// Carrying out the decision core's actions on the kernel. Under the userspace path
// manager each action becomes requests for one connection (or every connection, for
// interface events); under the in-kernel path manager it becomes endpoint changes.
// Nothing here throws: a connection that closed meanwhile (ENOENT, EINVAL) is a debug
// line, anything else a warning, and the daemon goes on.
import type { ConnectionState, ConnectionTable, SubflowState } from "../../compiler/connections.js";
import type { PlannedAction } from "../../compiler/decide.js";
import type { PolicyEvent } from "../../compiler/events.js";
import { RetryTracker, type RetryStep } from "../../compiler/retries.js";
import type { InterfaceMatcher } from "../../compiler/interfaces.js";
import type { PolicyModel } from "../../compiler/model.js";
import type { Strategy } from "../../compiler/plan.js";
import { NetlinkError, type Family, type InterfaceTracker, type MptcpPathManager } from "../netlink/index.js";
import { ActionLog, ruleText } from "./action-log.js";
import type { DelayedActions } from "./delayed-actions.js";
import { addressesOf, LocalIds } from "./local-addresses.js";
import type { Logger } from "./logger.js";
import type { DaemonObserver } from "./metrics-observer.js";
import type { RateLimiter } from "./rate-limiter.js";
import type { ZoneGuard } from "./zone-guard.js";

export interface ExecutorContext {
  readonly pm: MptcpPathManager;
  readonly tracker: InterfaceTracker;
  readonly table: ConnectionTable;
  readonly delayed: DelayedActions;
  readonly limiter: RateLimiter;
  readonly logger: Logger;
  readonly dryRun: boolean;
  /** The metrics, when on: told each action's result. */
  readonly observer?: DaemonObserver;
  /**
   * false where the kernel drops SUBFLOW_CREATE's backup flag (Linux 6.1: the peer sees
   * the subflow as active): the daemon then marks it with MP_PRIO once it is established.
   */
  readonly createKeepsBackup?: boolean | null;
  /** The zones (`isolate`): what would cross one is refused, per connection. */
  readonly zones?: ZoneGuard;
  /**
   * false while the kernel drops subflow events for this daemon (compiler/event-needs.ts):
   * a create is then not awaited, as nothing would ever settle it.
   */
  followsSubflows?(): boolean;
  /** Current policy and strategy: replaced on reload. */
  policy(): { readonly model: PolicyModel; readonly strategy: Strategy; readonly matcher: InterfaceMatcher };
}

/** Errors that mean "the connection or subflow is already gone". */
const STALE = new Set(["ENOENT", "EINVAL", "ENOTCONN", "ESRCH", "EBADF"]);

export class Executor {
  readonly ids = new LocalIds();
  /**
   * Subflows asked for (SUBFLOW_CREATE sent) whose subflow_established or
   * subflow_closed has not come yet, per connection. The `limits` checks count them:
   * the kernel's userspace path manager enforces no limit, and three creates of one
   * rule are sent before the first subflow is up, so counting established subflows
   * only let all three through.
   */
  private readonly pendingCreates = new Map<string, PendingCreate[]>();

  /** The live series of `create ... retry N` (compiler/retries.ts): the daemon carries out their tries. */
  readonly retries: RetryTracker;

  constructor(private readonly context: ExecutorContext) {
    this.retries = new RetryTracker((ifname) => this.context.policy().matcher(ifname), Math.random);
  }

  /** Run (or schedule) the actions of one decision; `since` is when the event arrived. */
  run(actions: readonly PlannedAction[], eventName: string, since: number): void {
    for (const action of actions) {
      const log = new ActionLog(this.context.logger, action.token !== undefined ? { event: eventName, rule: ruleText(action.at), action: action.op, token: action.token } : { event: eventName, rule: ruleText(action.at), action: action.op });
      if (action.op === "log") {
        log.info({ result: "logged" }, action.message);
        this.context.observer?.action("log", "logged", since);
        continue;
      }
      if (action.afterUs > 0) {
        const delayMs = action.afterUs / 1000;
        log.debug({ delay_ms: delayMs }, "scheduled");
        this.context.delayed.schedule(action.scope === "connection" ? action.token : undefined, delayMs, () => void this.carryOut(action, log, Date.now()));
      } else void this.carryOut(action, log, since);
    }
  }

  /**
   * A subflow event settles the create that asked for that subflow, if any. A backup
   * subflow that came up without the flag, or on a kernel known to drop it, is made
   * one with MP_PRIO (SET_FLAGS), so the peer sees the backup the policy asked for.
   * It also ends or advances a retry series. Returns true when the event was the
   * failure of a retried create: its series answers it, and the rules must not.
   */
  observe(event: PolicyEvent): boolean {
    if ((event.event !== "subflow_established" && event.event !== "subflow_closed") || event.token === undefined) return false;
    const create = this.settleCreate(event.token, { saddr: event.saddr, daddr: event.daddr, dport: event.dport });
    if (event.event === "subflow_established" && create?.backup && (event.backup !== true || this.context.createKeepsBackup === false)) {
      void this.repairBackup(event.token, event, create.rule);
    }
    if (event.event === "subflow_established") {
      const done = this.retries.established(event);
      if (done && done.attempt > 1) this.context.logger.info({ token: done.token, rule: ruleOf(done.action), attempt: done.attempt, attempts: done.attempts }, `established at attempt ${done.attempt} of ${done.attempts}`);
      return false;
    }
    const step = this.retries.failed(event);
    if (!step) return false;
    this.continueSeries(step, `subflow closed (error ${event.error})`);
    return true;
  }

  /** The next try of a series after a failure, or the line that says it gave up. */
  private continueSeries(step: RetryStep, why: string): void {
    const fields = { token: step.token, rule: ruleOf(step.action), attempts: step.attempts };
    const failed = step.exhausted ? step.attempt : step.attempt - 1;
    if (step.exhausted) {
      this.context.logger.warn({ ...fields, attempt: step.attempt, result: "gave-up" }, `attempt ${failed} of ${step.attempts} failed (${why}): no more tries`);
      return;
    }
    this.context.logger.info({ ...fields, attempt: step.attempt, delay_ms: Math.round(step.delayUs / 1000) }, `attempt ${failed} of ${step.attempts} failed (${why}): attempt ${step.attempt} of ${step.attempts} in ${Math.round(step.delayUs / 1000)} ms`);
    // A try is for its series' connection only, whatever the rule's scope was.
    this.run([{ ...step.action, scope: "connection", token: step.token }], "retry", Date.now());
  }

  private async repairBackup(token: string, event: SubflowEvent, rule: string): Promise<void> {
    const { saddr, sport, daddr, dport } = event;
    if (saddr === undefined || sport === undefined || daddr === undefined || dport === undefined || this.context.dryRun) return;
    const describe = `SET_FLAGS token ${token} ${saddr}:${sport} -> ${daddr}:${dport} backup`;
    const log = new ActionLog(this.context.logger, { event: event.event, rule, action: "create", token });
    try {
      await this.context.pm.setSubflowBackup(token, { address: saddr, port: sport }, { address: daddr, port: dport }, true);
      const subflow = this.context.table.connections.get(token)?.subflows.find((s) => s.saddr === saddr && s.sport === sport);
      if (subflow) subflow.backup = true;
      log.info({ result: "ok", request: describe }, "this kernel dropped the backup flag of SUBFLOW_CREATE: set with MP_PRIO");
    } catch (error) {
      if (error instanceof NetlinkError && STALE.has(error.code)) log.debug({ result: error.code, request: describe }, "the subflow is gone");
      else log.warn({ result: error instanceof NetlinkError ? error.code : "failed", request: describe }, String((error as Error)?.message ?? error));
    }
  }

  /** Forget the creates still awaited (after a resynchronisation: the kernel's view replaces them). */
  forgetPendingCreates(): void {
    this.pendingCreates.clear();
  }

  /** Forget what was kept for a closed connection: its delayed actions and retry series are cancelled (their number is returned). */
  forget(token: string): number {
    this.pendingCreates.delete(token);
    const series = this.retries.closed(token).length;
    this.ids.forget(token);
    this.context.limiter.forget(token);
    return this.context.delayed.cancel(token) + series;
  }

  private async carryOut(action: PlannedAction, log: ActionLog, since: number): Promise<void> {
    const { table, limiter, dryRun, observer } = this.context;
    const strategy = this.context.policy().strategy;
    if (strategy === "userspace" && action.scope === "connection" && action.token !== undefined && !table.connections.has(action.token)) {
      log.debug({ result: "skipped" }, "the connection closed before the action");
      observer?.action(action.op, "skipped", since);
      return;
    }
    const allowed = limiter.allow(action.scope === "connection" ? action.token : undefined);
    if (allowed !== "ok") {
      log.warn({ result: "rate-limited", limit: allowed }, `action dropped: the ${allowed === "global" ? "daemon's" : "connection's"} action rate limit is reached`);
      observer?.action(action.op, "rate-limited", since);
      return;
    }
    const requests = strategy === "kernel" ? this.kernelRequests(action) : this.userspaceRequestsFor(action);
    if (requests.length === 0) {
      log.info({ result: "nothing-to-do" }, "no kernel request needed (no matching address or subflow, or a limit is reached)");
      observer?.action(action.op, "nothing-to-do", since);
      return;
    }
    for (const request of requests) {
      if (request.refused !== undefined) {
        // A rule's action on its connection is worth a line; the endpoints' and the interface
        // events' reach every connection, and on a busy server each other zone's would log one.
        const routine = action.scope === "every_connection" || this.context.policy().model.endpoints.some((e) => e.at === action.at);
        (routine ? log.debug : log.info).call(log, { result: "zone-refused", request: request.describe }, `refused: ${request.refused}`);
        observer?.action(action.op, "zone-refused", since);
        continue;
      }
      if (dryRun) {
        log.info({ result: "dry-run", request: request.describe }, "would send");
        observer?.action(action.op, "dry-run", since);
        continue;
      }
      try {
        await request.send();
        log.info({ result: "ok", request: request.describe, latency_ms: Number((Date.now() - since).toFixed(3)) }, "done");
        observer?.action(action.op, "ok", since);
      } catch (error) {
        if (observer) observeFailure(observer, action.op, request.describe, error, since);
        if (error instanceof NetlinkError && STALE.has(error.code)) log.debug({ result: error.code, request: request.describe, extack: error.extack }, "the kernel refused: the connection or subflow is gone");
        else if (error instanceof NetlinkError) log.warn({ result: error.code, request: request.describe, extack: error.extack }, error.message);
        else log.warn({ result: "failed", request: request.describe }, String((error as Error)?.message ?? error));
      }
    }
  }

  /** The requests of an action under the userspace path manager: for its connection, or for each one. */
  private userspaceRequestsFor(action: PlannedAction): Request[] {
    if (action.scope === "connection") return action.token !== undefined ? this.userspaceRequests(action, action.token) : [];
    if (action.scope !== "every_connection") return [];
    return [...this.context.table.connections.keys()].flatMap((token) => this.userspaceRequests(action, token));
  }

  /** Whether a subflow event is the answer to a SUBFLOW_CREATE this daemon sent (and has not settled yet). */
  awaits(event: { readonly token?: string; readonly saddr?: string; readonly daddr?: string; readonly dport?: number }): boolean {
    return event.token !== undefined && (this.pendingCreates.get(event.token)?.some((p) => p.saddr === event.saddr && p.daddr === event.daddr && p.dport === event.dport) ?? false);
  }

  private settleCreate(token: string, key: { readonly saddr?: string; readonly daddr?: string; readonly dport?: number }): PendingCreate | undefined {
    const list = this.pendingCreates.get(token);
    const index = list?.findIndex((p) => p.saddr === key.saddr && p.daddr === key.daddr && p.dport === key.dport) ?? -1;
    if (list === undefined || index < 0) return undefined;
    const [settled] = list.splice(index, 1);
    if (list.length === 0) this.pendingCreates.delete(token);
    return settled;
  }

  private iface(name: string | undefined) {
    return name === undefined ? undefined : this.context.policy().model.interfaces.find((i) => i.name === name);
  }

  /** The subflows of a connection on a policy interface: from one of its addresses, or on one of its links. */
  private subflowsOn(connection: ConnectionState, ifaceName: string) {
    const { tracker } = this.context;
    const addresses = new Set(addressesOf(tracker, this.iface(ifaceName)).map((a) => a.address));
    // By link as well as by address: a link going down takes its IPv6 addresses with
    // it, and `on iface_down wifi then destroy via wifi` must still find its subflows.
    const onLink = (s: SubflowState) => {
      const name = s.ifname ?? (s.ifindex !== undefined ? tracker.nameOf(s.ifindex) : undefined);
      return name !== undefined && this.context.policy().matcher(name).includes(ifaceName);
    };
    const complete = (s: SubflowState) => s.saddr !== undefined && s.daddr !== undefined && s.sport !== undefined && s.dport !== undefined;
    return connection.subflows.filter((s) => complete(s) && (addresses.has(s.saddr as string) || onLink(s)));
  }

  private userspaceRequests(action: PlannedAction, token: string): Request[] {
    const { pm, table, tracker } = this.context;
    const connection = table.connections.get(token);
    if (!connection) return [];
    const family = (connection.family ?? "ipv4") as Family;
    switch (action.op) {
      case "create": {
        const to = action.to ?? connection.daddr;
        const port = action.port ?? connection.dport;
        if (to === undefined || port === undefined) return [];
        const toFamily: Family = to.includes(":") ? "ipv6" : "ipv4";
        const local = action.via !== undefined ? addressesOf(tracker, this.iface(action.via), toFamily)[0] : { address: action.from ?? connection.saddr, ifindex: undefined };
        if (!local?.address) return [];
        const { subflows: limit, addAddrAccepted } = this.context.policy().model.limits;
        const pending = this.pendingCreates.get(token) ?? [];
        if (limit !== undefined && connection.subflows.length - 1 + pending.length >= limit) return [];
        // `limits add_addr_accepted`: the kernel does not apply it to the userspace path
        // manager, so the daemon does: a connection uses at most N announced addresses.
        const announced = addAddrAccepted !== undefined && connection.announced.length > 0 ? new Set(connection.announced.map((a) => a.address)) : undefined;
        if (addAddrAccepted !== undefined && announced?.has(to)) {
          const used = new Set([...connection.subflows, ...pending].map((s) => s.daddr).filter((a) => a !== undefined && announced.has(a)));
          if (!used.has(to) && used.size >= addAddrAccepted) return [];
        }
        const address = local.address;
        const zones = this.context.zones;
        // In a zone, even a subflow from the connection's own address is bound to its device, so routing cannot take it out of the zone.
        const ifindex = local.ifindex ?? (zones?.zones.active ? tracker.interfaceOf(address)?.ifindex : undefined);
        const refused = zones?.refusal(connection, action, { saddr: address, daddr: to, ...(ifindex !== undefined ? { ifindex } : {}) });
        if (refused !== undefined) return [{ describe: `SUBFLOW_CREATE token ${token} ${address} -> ${to}:${port}`, refused, send: NOT_SENT }];
        const id = this.ids.idFor(connection, address);
        const key: PendingCreate = { saddr: address, daddr: to, dport: port, backup: action.backup, rule: ruleText(action.at) };
        return [
          {
            describe: `SUBFLOW_CREATE token ${token} ${local.address} (id ${id}) -> ${to}:${port}${action.backup ? " backup" : ""}`,
            send: async () => {
              // Counted from the moment it is sent (synchronously, before the next action is looked at).
              const awaited = this.context.followsSubflows?.() !== false;
              const pending = awaited ? this.pendingCreates.get(token) : undefined;
              if (pending) pending.push(key);
              else if (awaited) this.pendingCreates.set(token, [key]);
              // The first try of `retry N` starts its series; the subflows open now are not its own.
              if (action.attempt === 1 && (action.attempts ?? 1) > 1) this.retries.started(token, action, action.attempts, { open: connection.subflows });
              try {
                await pm.createSubflow(token, { id, address, ...(ifindex !== undefined ? { ifindex } : {}), backup: action.backup }, { address: to, port });
              } catch (error) {
                this.settleCreate(token, key);
                // The kernel refused the try: the series goes on (a gone connection ends it with forget()).
                if (!(error instanceof NetlinkError && STALE.has(error.code))) {
                  const step = this.retries.refused(token, action);
                  if (step) this.continueSeries(step, `refused: ${error instanceof NetlinkError ? error.code : String(error)}`);
                }
                throw error;
              }
            },
          },
        ];
      }
      case "destroy": {
        const subflows = action.via !== undefined ? this.subflowsOn(connection, action.via) : action.subflow ? [action.subflow] : [];
        return subflows.flatMap((s) =>
          s.saddr !== undefined && s.sport !== undefined && s.daddr !== undefined && s.dport !== undefined
            ? [{ describe: `SUBFLOW_DESTROY token ${token} ${s.saddr}:${s.sport} -> ${s.daddr}:${s.dport}`, send: () => pm.destroySubflow(token, { address: s.saddr as string, port: s.sport as number }, { address: s.daddr as string, port: s.dport as number }) }]
            : [],
        );
      }
      case "announce": {
        const addresses = action.iface !== undefined ? addressesOf(tracker, this.iface(action.iface), family).map((a) => a.address) : action.address !== undefined ? [action.address] : [];
        return addresses.map((address): Request => {
          const refused = this.context.zones?.refusal(connection, action, { saddr: address });
          if (refused !== undefined) return { describe: `ANNOUNCE token ${token} ${address}`, refused, send: NOT_SENT };
          const id = this.ids.idFor(connection, address);
          return { describe: `ANNOUNCE token ${token} ${address} (id ${id})${action.port !== undefined ? ` port ${action.port}` : ""}`, send: () => pm.announce(token, { id, address, ...(action.port !== undefined ? { port: action.port } : {}) }) };
        });
      }
      case "withdraw": {
        const addresses = action.iface !== undefined ? addressesOf(tracker, this.iface(action.iface)).map((a) => a.address) : action.address !== undefined ? [action.address] : [];
        return addresses.flatMap((address) => {
          const id = this.ids.existing(token, address);
          return id === undefined ? [] : [{ describe: `REMOVE token ${token} id ${id} (${address})`, send: () => pm.remove(token, id) }];
        });
      }
      case "set":
        return this.subflowsOn(connection, action.iface).map((s) => ({
          describe: `SET_FLAGS token ${token} ${s.saddr}:${s.sport} -> ${s.daddr}:${s.dport} ${action.backup ? "backup" : "active"}`,
          send: async () => {
            await pm.setSubflowBackup(token, { address: s.saddr as string, port: s.sport as number }, { address: s.daddr as string, port: s.dport as number }, action.backup);
            s.backup = action.backup;
          },
        }));
      case "log":
        return [];
    }
  }

  /** Endpoint changes: the in-kernel path manager applies them to every connection. */
  private kernelRequests(action: PlannedAction): Request[] {
    const { pm, tracker } = this.context;
    const addressesFor = (iface: string | undefined, address: string | undefined) => (iface !== undefined ? addressesOf(tracker, this.iface(iface)) : address !== undefined ? [{ address, ifindex: undefined }] : []);
    const endpointIdOf = async (address: string) => (await pm.listEndpoints()).find((e) => e.address === address)?.id;
    switch (action.op) {
      case "create":
        return addressesFor(action.via, action.from).map((a) => ({
          describe: `ADD_ADDR ${a.address} subflow${action.backup ? " backup" : ""}`,
          send: () => pm.addEndpoint({ address: a.address, ...(a.ifindex !== undefined ? { ifindex: a.ifindex } : {}), flags: action.backup ? ["subflow", "backup"] : ["subflow"] }),
        }));
      case "announce":
        return addressesFor(action.iface, action.address).map((a) => ({
          describe: `ADD_ADDR ${a.address} signal${action.port !== undefined ? ` port ${action.port}` : ""}`,
          send: () => pm.addEndpoint({ address: a.address, ...(a.ifindex !== undefined ? { ifindex: a.ifindex } : {}), flags: ["signal"], ...(action.port !== undefined ? { port: action.port } : {}) }),
        }));
      case "destroy":
      case "withdraw": {
        const iface = action.op === "destroy" ? action.via : action.iface;
        return addressesFor(iface, action.op === "withdraw" ? action.address : undefined).map((a) => ({
          describe: `DEL_ADDR ${a.address}`,
          send: async () => {
            const id = await endpointIdOf(a.address);
            if (id !== undefined) await pm.deleteEndpoint(id, a.address);
          },
        }));
      }
      case "set":
        return addressesFor(action.iface, undefined).map((a) => ({
          describe: `SET_FLAGS ${a.address} ${action.backup ? "backup" : "active"}`,
          send: () => pm.setEndpointFlags({ address: a.address }, { backup: action.backup }),
        }));
      case "log":
        return [];
    }
  }
}

interface PendingCreate {
  readonly saddr: string;
  readonly daddr: string;
  readonly dport: number;
  readonly backup: boolean;
  /** The rule that asked for it, `file:line`. */
  readonly rule: string;
}

function ruleOf(action: PlannedAction): string {
  return ruleText(action.at);
}

interface SubflowEvent {
  readonly event: string;
  readonly token?: string;
  readonly saddr?: string;
  readonly sport?: number;
  readonly daddr?: string;
  readonly dport?: number;
  readonly backup?: boolean;
}

interface Request {
  readonly describe: string;
  /** Why it is not sent: it would cross the connection's zone (`isolate`). */
  readonly refused?: string;
  send(): Promise<void>;
}

const NOT_SENT = (): Promise<void> => Promise.resolve();

/** The metrics of a failed request: its result, and the kernel's errno by command (the first word of its description). */
function observeFailure(observer: DaemonObserver, op: string, describe: string, error: unknown, since: number): void {
  const code = error instanceof NetlinkError ? error.code : "failed";
  observer.action(op, code, since);
  if (error instanceof NetlinkError) observer.kernelError(describe.split(" ")[0] ?? "", code);
}
