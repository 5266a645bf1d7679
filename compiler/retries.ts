// `create ... retry N`: the backoff between tries and the bookkeeping of each series
// of tries, shared by the daemon (which carries them out) and simulate (which shows
// them). Pure and browser-safe, with no timers: the caller schedules each try.
//
// A series starts with a create that has `retry N` and allows N + 1 tries in all. The
// failure of the subflow a try opened (its `subflow_closed` with an error, or the
// kernel refusing the request) asks for the next try, after a delay that doubles from
// the create's `after` (1 s without one) up to 60 s; after the last try fails, the
// series is exhausted. The subflow being established ends the series; the connection
// closing cancels every series of that connection.
//
// Which subflow belongs to which series: the kernel does not say which request opened
// a subflow, so a series claims the subflows that match its create. Every operand the
// create names must match: `via` (the event's ifname, through the policy's interface
// patterns), `from` (saddr), `to` (daddr) and `port` (dport); a create that names none
// matches every new subflow of its connection. Subflows already open when the series
// started are never its own. When two series of one connection match the same
// subflow, the oldest wins; the other goes on waiting for a subflow of its own.
//
// A failure a series claims is the series' to handle: the caller does not run the
// rules on it (simulate does not; the daemon should not), or a rule that creates on
// `subflow_closed` would answer its own subflow's failure twice, once by a retry and
// once by firing again, and the tries would multiply.
import type { PlannedAction, SubflowAddress } from "./decide.js";
import type { PolicyEvent } from "./events.js";
import type { InterfaceMatcher } from "./interfaces.js";
import type { SourceRef } from "./model.js";

/** The first wait when the create has no `after`. */
export const RETRY_BASE_US = 1_000_000;
/** No wait is longer, jitter included. */
export const RETRY_CAP_US = 60_000_000;
/** Jitter: each wait is the nominal one times a uniform factor in [1 - this, 1 + this). */
export const RETRY_JITTER = 0.2;
/** Live series kept per connection; past it the oldest is dropped (a connection has at most 65 subflows). */
export const MAX_SERIES_PER_CONNECTION = 65;

export type CreateAction = Extract<PlannedAction, { op: "create" }>;

/** The rule whose create started a series (decide()'s `rule`). */
export interface RuleRef {
  readonly index: number;
  readonly at: SourceRef;
}

/**
 * The wait before retry number `attempt` (1 for the first retry): the create's `after`
 * delay (1 s when it has none), doubled for each retry before it, at most 60 s. With
 * `random` (a source of numbers in [0, 1), such as Math.random), jitter of ±20 %
 * (uniform), still at most 60 s; without it the nominal wait, which simulate and
 * explain show. In microseconds.
 */
export function retryDelayUs(afterUs: number, attempt: number, random?: () => number): number {
  const base = afterUs > 0 ? afterUs : RETRY_BASE_US;
  const doublings = Math.max(0, Math.floor(attempt) - 1);
  const nominal = Math.min(RETRY_CAP_US, base * 2 ** doublings);
  if (!random) return nominal;
  const factor = 1 + RETRY_JITTER * (2 * random() - 1);
  return Math.min(RETRY_CAP_US, Math.round(nominal * factor));
}

/** The nominal waits of `retries` retries, in order (for explain). */
export function nominalRetryDelaysUs(afterUs: number, retries: number): number[] {
  return Array.from({ length: Math.max(0, retries) }, (_, i) => retryDelayUs(afterUs, i + 1));
}

/** A live series: its latest try, which try that is, and of how many. */
export interface RetryState {
  readonly token: string;
  /** The latest try (the first is the rule's own create). */
  readonly action: CreateAction;
  /** 1 for the rule's own create, 2 for the first retry, ... */
  readonly attempt: number;
  /** Tries in all: N + 1 for `retry N`. */
  readonly attempts: number;
  readonly rule?: RuleRef;
}

/** What to do after a try failed: the next try, after `delayUs` (also its `afterUs`). */
export interface RetryNext extends RetryState {
  readonly exhausted: false;
  readonly delayUs: number;
}

/** The last try failed: the series is over, and nothing more is tried. */
export interface RetryExhausted extends RetryState {
  readonly exhausted: true;
}

export type RetryStep = RetryNext | RetryExhausted;

/**
 * A subflow described without an event: the interface name of the policy (`via`), the
 * addresses and the remote port, compared with the create's own operands.
 */
export interface RetrySubflow {
  readonly token: string;
  readonly via?: string;
  readonly from?: string;
  readonly to?: string;
  readonly port?: number;
}

export interface RetryStartOptions {
  /** The rule whose create this is, handed back with each step (simulate's `fired`). */
  readonly rule?: RuleRef;
  /** The connection's subflows open now: none of them is the series' own. */
  readonly open?: readonly SubflowAddress[];
}

interface Series {
  readonly token: string;
  /** The rule's create: the operands and the `after` each retry starts from. */
  readonly first: CreateAction;
  current: CreateAction;
  attempt: number;
  readonly attempts: number;
  readonly rule: RuleRef | undefined;
  readonly open: ReadonlySet<string>;
}

export class RetryTracker {
  private readonly series = new Map<string, Series[]>();

  /**
   * @param matchInterfaces the policy's interface matcher (compiler/interfaces.ts), to
   *   match a create's `via` with an event's ifname
   * @param random the jitter source (the daemon: Math.random); without it every wait
   *   is the nominal one (simulate)
   */
  constructor(
    private readonly matchInterfaces: InterfaceMatcher,
    private readonly random?: () => number,
  ) {}

  /**
   * Record a series: `action` is a create from decide() (with `attempt`/`attempts` when
   * it has `retry N`), tried on connection `token` (the action's own, or one of every
   * connection for an interface event's rule). Call it when the first try's request
   * is sent (simulate: when it is planned). `attempts` is the number of tries in all
   * (N + 1); with 1 or fewer nothing is recorded and undefined is returned.
   */
  started(token: string, action: PlannedAction, attempts: number = action.op === "create" ? (action.attempts ?? 1) : 1, options: RetryStartOptions = {}): RetryState | undefined {
    const total = Math.floor(attempts);
    if (action.op !== "create" || !(total > 1)) return undefined;
    const first: CreateAction = action.token === token && action.attempt === 1 && action.attempts === total ? action : { ...action, token, attempt: 1, attempts: total };
    const series: Series = {
      token,
      first,
      current: first,
      attempt: 1,
      attempts: total,
      rule: options.rule,
      open: new Set((options.open ?? []).map(subflowKey)),
    };
    let list = this.series.get(token);
    if (!list) this.series.set(token, (list = []));
    list.push(series);
    if (list.length > MAX_SERIES_PER_CONNECTION) list.shift();
    return stateOf(series);
  }

  /**
   * A subflow closed: with an error (`error` > 0) and matching a live series of its
   * connection, the series' next try, or `exhausted` after the last. Undefined when it
   * is no series' failure (then it is the rules' event). A RetrySubflow always counts
   * as a failure.
   */
  failed(subflow: PolicyEvent | RetrySubflow): RetryStep | undefined {
    if (isEvent(subflow) && (subflow.event !== "subflow_closed" || !((subflow.error ?? 0) > 0))) return undefined;
    const series = this.find(subflow);
    return series && this.advance(series);
  }

  /** The kernel refused the request of a try (`action` as started() or a step handed it out). */
  refused(token: string, action: PlannedAction): RetryStep | undefined {
    const list = this.series.get(token) ?? [];
    const series = list.find((s) => s.current === action) ?? (action.op === "create" ? list.find((s) => sameCreate(s.current, action)) : undefined);
    return series && this.advance(series);
  }

  /** A subflow was established: the oldest series it matches is over (handed back), if any. */
  established(subflow: PolicyEvent | RetrySubflow): RetryState | undefined {
    const series = this.find(subflow);
    if (!series) return undefined;
    this.remove(series);
    return stateOf(series);
  }

  /** The connection closed: every series of it is cancelled (handed back). */
  closed(token: string): RetryState[] {
    const list = this.series.get(token) ?? [];
    this.series.delete(token);
    return list.map(stateOf);
  }

  /** The live series of a connection, oldest first. */
  live(token: string): RetryState[] {
    return (this.series.get(token) ?? []).map(stateOf);
  }

  private find(subflow: PolicyEvent | RetrySubflow): Series | undefined {
    if (subflow.token === undefined) return undefined;
    const list = this.series.get(subflow.token);
    if (!list) return undefined;
    return isEvent(subflow) ? list.find((s) => this.matchesEvent(s, subflow)) : list.find((s) => matchesSubflow(s.first, subflow));
  }

  private matchesEvent(series: Series, event: PolicyEvent): boolean {
    const create = series.first;
    if (series.open.has(subflowKey(event))) return false;
    if (create.via !== undefined && (event.ifname === undefined || !this.matchInterfaces(event.ifname).includes(create.via))) return false;
    if (create.from !== undefined && event.saddr !== create.from) return false;
    if (create.to !== undefined && event.daddr !== create.to) return false;
    return create.port === undefined || event.dport === create.port;
  }

  private advance(series: Series): RetryStep {
    if (series.attempt >= series.attempts) {
      this.remove(series);
      return { ...stateOf(series), exhausted: true };
    }
    series.attempt += 1;
    const delayUs = retryDelayUs(series.first.afterUs, series.attempt - 1, this.random);
    series.current = { ...series.first, afterUs: delayUs, attempt: series.attempt, attempts: series.attempts };
    return { ...stateOf(series), exhausted: false, delayUs };
  }

  private remove(series: Series): void {
    const list = this.series.get(series.token);
    if (!list) return;
    const index = list.indexOf(series);
    if (index >= 0) list.splice(index, 1);
    if (list.length === 0) this.series.delete(series.token);
  }
}

function stateOf(series: Series): RetryState {
  return { token: series.token, action: series.current, attempt: series.attempt, attempts: series.attempts, ...(series.rule ? { rule: series.rule } : {}) };
}

function isEvent(value: PolicyEvent | RetrySubflow): value is PolicyEvent {
  return typeof (value as { event?: unknown }).event === "string";
}

function subflowKey(s: SubflowAddress): string {
  return `${s.saddr ?? ""}|${s.sport ?? ""}|${s.daddr ?? ""}|${s.dport ?? ""}`;
}

/** Every operand the create names is the subflow's. */
function matchesSubflow(create: CreateAction, subflow: RetrySubflow): boolean {
  return (
    (create.via === undefined || create.via === subflow.via) &&
    (create.from === undefined || create.from === subflow.from) &&
    (create.to === undefined || create.to === subflow.to) &&
    (create.port === undefined || create.port === subflow.port)
  );
}

function sameCreate(a: CreateAction, b: CreateAction): boolean {
  return a.via === b.via && a.from === b.from && a.to === b.to && a.port === b.port && a.backup === b.backup && (b.attempt === undefined || a.attempt === b.attempt);
}
