// `mptcp-policy run`: configure the path manager for the policy, follow the kernel's
// MPTCP events and the namespace's interface changes, and carry out the rules.
// Reload on SIGHUP or a file change (a broken policy never replaces a working one);
// restore what was changed on SIGTERM/SIGINT; resynchronise after an event overflow.
import { ConnectionTable, type SubflowState } from "../../compiler/connections.js";
import { decide, type Decision } from "../../compiler/decide.js";
import { endpointActions } from "../../compiler/endpoint-actions.js";
import { eventNeeds, type KernelEventName } from "../../compiler/event-needs.js";
import type { PolicyEvent as CorePolicyEvent } from "../../compiler/events.js";
import { interfaceMatcher, type InterfaceMatcher } from "../../compiler/interfaces.js";
import { kernelGaps } from "../../compiler/kernel-gaps.js";
import type { PolicyModel } from "../../compiler/model.js";
import { planPolicy, type Strategy } from "../../compiler/plan.js";
import { pathManagerSysctl, policyCapabilities, probeKernelFeatures, type KernelFeatures } from "../kernel/features.js";
import { EventMonitor, InterfaceTracker, MptcpPathManager, readStatus, type EventFilterKind, type PolicyEvent, type SubflowSocket } from "../netlink/index.js";
import { ruleText } from "./action-log.js";
import { DelayedActions } from "./delayed-actions.js";
import { Executor } from "./executor.js";
import { applyLimits, desiredEndpoints, restoreState, saveState, setPathManager, syncEndpoints, type SavedState } from "./kernel-setup.js";
import type { Logger } from "./logger.js";
import type { DaemonObserver } from "./metrics-observer.js";
import { loadPolicy, watchPolicy } from "./policy-source.js";
import { RateLimiter } from "./rate-limiter.js";
import { SavedStateFile } from "./saved-state.js";
import { SchedulerSupport, type SchedulerFallbackMode } from "./scheduler-support.js";
import { ProgramSelectionSupport } from "./program-selection-support.js";
import { DEFAULT_SCHEDULER_INTERVAL_MS, LiveTiers } from "./live-tiers.js";
import { STALE_EVENTS, StaleWatch } from "./stale-watch.js";
import { SubflowSampler } from "./subflow-sampler.js";
import { ZoneGuard } from "./zone-guard.js";

export interface DaemonOptions {
  readonly config: string;
  readonly dryRun: boolean;
  readonly insecurePermissions: boolean;
  readonly watch: boolean;
  readonly schedulerFallback: SchedulerFallbackMode;
  readonly stateDir?: string;
  /** How often subflows are sampled for stale detection (ms; default DEFAULT_SAMPLE_INTERVAL_MS). */
  readonly sampleIntervalMs?: number;
  /** How often the live scheduler tiers are evaluated (ms; default DEFAULT_SCHEDULER_INTERVAL_MS). */
  readonly schedulerIntervalMs?: number;
  /** Told what the daemon does (the metrics of `run --metrics`); absent, nothing is spent on it. */
  readonly observer?: DaemonObserver;
}

export const DEFAULT_SAMPLE_INTERVAL_MS = 100;

const NO_DECISION: Decision = { rule: undefined, actions: [] };

/** Events whose loss leaves the connection table behind: a reload that reads them again resynchronises. */
const TABLE_EVENTS: readonly KernelEventName[] = ["announced", "removed", "subflow_established", "subflow_closed", "subflow_priority"];

interface ActivePolicy {
  readonly model: PolicyModel;
  readonly strategy: Strategy;
  readonly matcher: InterfaceMatcher;
}

export class Daemon {
  private policy!: ActivePolicy;
  private readonly table = new ConnectionTable();
  private readonly delayed = new DelayedActions();
  private pm!: MptcpPathManager;
  private kernel!: KernelFeatures;
  private tracker!: InterfaceTracker;
  private monitor!: EventMonitor;
  private executor!: Executor;
  private zoneGuard!: ZoneGuard;
  private saved: SavedState | undefined;
  private stopping: Promise<void> | undefined;
  private resyncing = false;
  private readonly schedulers: SchedulerSupport;
  private readonly programs: ProgramSelectionSupport;
  private readonly stateFile: SavedStateFile;
  private endpointUpdates: Promise<void> = Promise.resolve();
  private sampler: SubflowSampler | undefined;
  private staleWatch: StaleWatch | undefined;
  private liveTiers: LiveTiers | undefined;
  /** The MPTCP events the kernel drops for this daemon (none until the filter is attached). */
  private droppedEvents: readonly KernelEventName[] = [];
  /** What the attached filter drops (events | source addresses): attached again only when it changes. */
  private filterKey = "";
  /** The eBPF events filter could not be used (said once; the classic filter stands in). */
  private ebpfFilterRefused = false;
  /** The filter attached last: eBPF also drops the later events of connections it dropped. */
  private filterKind: EventFilterKind["kind"] = "none";

  constructor(
    private readonly options: DaemonOptions,
    private readonly logger: Logger,
  ) {
    this.schedulers = new SchedulerSupport(options.schedulerFallback, logger);
    this.programs = new ProgramSelectionSupport(logger, options.stateDir);
    this.stateFile = new SavedStateFile(options.stateDir);
  }

  /** Start, or throw an Error whose message is the one-line reason. */
  async start(model: PolicyModel): Promise<void> {
    this.policy = activate(model);
    this.pm = await MptcpPathManager.open();
    // A dry run writes nothing, not even the probe's endpoint (laminar is then unknown).
    this.kernel = await probeKernelFeatures(this.options.dryRun ? {} : { pathManager: this.pm });
    this.logger.info({ release: this.kernel.release, features: summarise(this.kernel) }, "kernel features");
    this.reportKernelGaps(model);
    // Subscribe before reading the state, so nothing happens unseen in between. The
    // monitor's interface tracker is the daemon's too: one rtnetlink subscription,
    // so each interface change arrives once.
    this.monitor = await EventMonitor.start();
    this.tracker = this.monitor.tracker as InterfaceTracker;
    this.zoneGuard = new ZoneGuard({
      pm: this.pm,
      tracker: this.tracker,
      table: this.table,
      logger: this.logger,
      dryRun: this.options.dryRun,
      ...(this.options.observer ? { observer: this.options.observer } : {}),
      createBinds: this.kernel.features.subflow_create_flags.available,
      policy: () => this.policy,
    });
    this.executor = new Executor({
      zones: this.zoneGuard,
      pm: this.pm,
      tracker: this.tracker,
      table: this.table,
      delayed: this.delayed,
      limiter: new RateLimiter(),
      logger: this.logger,
      dryRun: this.options.dryRun,
      ...(this.options.observer ? { observer: this.options.observer } : {}),
      createKeepsBackup: this.kernel.features.subflow_create_flags.available,
      followsSubflows: () => !this.droppedEvents.includes("subflow_established"),
      policy: () => this.policy,
    });
    this.filterEvents(true);
    if (!this.options.dryRun) {
      // A previous run that died without restoring left its start state behind: that one counts.
      const leftBehind = this.stateFile.read();
      this.saved = leftBehind ?? (await saveState(this.pm, pathManagerSysctl(this.kernel)));
      if (leftBehind) this.logger.info({ path_manager: leftBehind.pathManager, file: this.stateFile.path }, "a previous run did not restore the kernel's state: restoring that state on exit");
      else this.stateFile.write(this.saved);
      await this.configure(undefined);
    }
    this.schedulers.start(model, this.policy.strategy, this.options.dryRun);
    this.programs.apply(model, this.kernel, this.options.dryRun);
    await this.resync("start");
    this.monitor.onEvent((event) => this.onEvent(event));
    this.options.observer?.started({ table: this.table, tracker: this.tracker, strategy: () => this.policy.strategy, rules: () => this.policy.model.rules.length });
    this.updateSampling();
    this.logger.info({ strategy: this.policy.strategy, rules: model.rules.length, dry_run: this.options.dryRun, config: this.options.config }, "running");
  }

  /** One warning per rule or endpoint this kernel cannot honour (at start and on every reload). */
  private reportKernelGaps(model: PolicyModel): void {
    for (const gap of kernelGaps(model, policyCapabilities(this.kernel))) {
      this.logger.warn({ at: `${gap.at.file}:${gap.at.line}`, feature: gap.feature, release: this.kernel.release }, `${gap.at.file}:${gap.at.line}: ${gap.message}`);
    }
  }

  /**
   * Sample subflows only while something needs it: rules on `subflow_stale` or
   * `subflow_recovered` (the kernel sends nothing when a path blackholes), or the live
   * scheduler tiers (schedulers approximated without the BPF hook). One sampler feeds
   * both, at the shorter of their intervals; the tiers keep to their own.
   */
  private updateSampling(): void {
    const stale = this.policy.model.rules.some((r) => STALE_EVENTS.includes(r.event));
    const tiers = this.schedulers.approximating;
    const interval = stale ? (this.options.sampleIntervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS) : tiers ? this.schedulerIntervalMs : undefined;
    const watch = stale ? (this.staleWatch ?? new StaleWatch(this.table, this.tracker)) : undefined;
    this.staleWatch = watch;
    this.liveTiers = tiers ? (this.liveTiers ?? this.newLiveTiers()) : undefined;
    if (this.sampler && this.sampler.intervalMs === interval) return;
    const wasSampling = this.sampler !== undefined;
    this.sampler?.stop();
    this.sampler = undefined;
    if (interval === undefined) {
      if (wasSampling) this.logger.info("subflow sampling off: no rule for subflow_stale or subflow_recovered, no live scheduler tier");
      return;
    }
    this.sampler = new SubflowSampler(interval, (now, subflows) => this.onSample(now, subflows), this.logger);
    this.sampler.start();
    if (stale) this.logger.info({ interval_ms: interval }, "stale detection on: sampling the subflows of followed connections");
    if (tiers) this.logger.info({ interval_ms: this.schedulerIntervalMs }, "live scheduler tiers on: subflow metrics steer the backup flags");
  }

  private get schedulerIntervalMs(): number {
    return this.options.schedulerIntervalMs ?? DEFAULT_SCHEDULER_INTERVAL_MS;
  }

  private newLiveTiers(): LiveTiers {
    return new LiveTiers({ table: this.table, tracker: this.tracker, pm: this.pm, logger: this.logger, dryRun: this.options.dryRun, intervalMs: this.schedulerIntervalMs, policy: () => this.policy });
  }

  private onSample(now: number, subflows: readonly SubflowSocket[]): void {
    this.liveTiers?.onSample(now, subflows);
    if (this.staleWatch) this.onStaleSample(this.staleWatch, now, subflows);
  }

  private onStaleSample(watch: StaleWatch, now: number, subflows: readonly SubflowSocket[]): void {
    for (const { event, stalledMs } of watch.events(now, subflows)) {
      const subflow = `${event.saddr}:${event.sport} -> ${event.daddr}:${event.dport}`;
      if (event.event === "subflow_stale") this.logger.info({ token: event.token, subflow, iface: event.ifname, stalled_ms: Math.round(stalledMs) }, "subflow stale: data outstanding and no acknowledgement progress");
      else this.logger.info({ token: event.token, subflow, iface: event.ifname, stalled_ms: Math.round(stalledMs) }, "subflow recovered: acknowledgements progress again");
      this.onEvent(event as PolicyEvent);
    }
  }

  /**
   * Have the kernel drop the MPTCP events this policy does not need (compiler/event-needs.ts).
   * Returns true when events dropped until now are read again: the caller resynchronises.
   */
  private filterEvents(atStart = false): boolean {
    const needs = eventNeeds(this.policy.model, { countsEvents: this.options.observer !== undefined });
    const before = this.droppedEvents;
    const sources = this.droppedSources(needs.connectionInterfaces);
    const key = `${needs.dropped.join()}|${sources.addresses.join()}`;
    if (!atStart && key === this.filterKey) return false;
    const droppedBefore = (this.filterKey.split("|")[1] ?? "").split(",").filter(Boolean);
    const sourcesChanged = droppedBefore.join() !== sources.addresses.join();
    this.filterKey = key;
    try {
      const filter = this.monitor.dropEvents(needs.dropped, { events: ["created", "established"], addresses: sources.addresses });
      this.droppedEvents = needs.dropped;
      this.filterKind = filter.kind;
      if (filter.ebpfRefused !== undefined && !this.ebpfFilterRefused) {
        this.ebpfFilterRefused = true;
        this.logger.info({ reason: filter.ebpfRefused }, "the eBPF events filter could not be used: the classic one drops connections of ignored interfaces, but their `closed` events are read");
      }
    } catch (error) {
      // Without the filter every event is read: slower on a busy server, nothing lost.
      this.logger.warn({ err: error }, "could not attach the events filter: every MPTCP event is read");
      this.droppedEvents = [];
      this.filterKey = "";
    }
    const fromInterfaces = sources.interfaces.length > 0 ? { opened_on_ignored: sources.interfaces } : {};
    if (!atStart && before.join() === this.droppedEvents.join()) {
      if (sourcesChanged) this.logger.debug({ ...fromInterfaces }, "events filter: the addresses of interfaces no rule acts on changed");
    } else if (this.droppedEvents.length > 0 || sources.addresses.length > 0)
      this.logger.info({ dropped: this.droppedEvents, ...fromInterfaces, kept: needs.keptBecause, filter: this.filterKind }, "MPTCP events the policy does not need are dropped by the kernel");
    else this.logger.info({ kept: needs.keptBecause }, "every MPTCP event is read");
    // Only these carry state the table keeps; `created` and listener events do not. Nor do
    // connections whose opening was dropped by address: read again, they are missing.
    const addressesReadAgain = droppedBefore.some((a) => !sources.addresses.includes(a) || this.filterKey === "");
    return addressesReadAgain || before.some((e) => !this.droppedEvents.includes(e) && TABLE_EVENTS.includes(e));
  }

  /**
   * The addresses whose connections no rule acts on (their `created` and `established`
   * are dropped too): those of the interfaces that none of `interfaces` matches. An
   * address not known yet is not among them, so its connections are read.
   */
  private droppedSources(interfaces: readonly string[] | undefined): { readonly addresses: readonly string[]; readonly interfaces: readonly string[] } {
    if (interfaces === undefined) return { addresses: [], interfaces: [] };
    const ignored = this.tracker.list().filter((link) => !this.policy.matcher(link.ifname).some((name) => interfaces.includes(name)));
    const addresses = ignored.flatMap((link) => link.addresses.map((a) => a.address)).sort();
    // The filter compares at most 200 of a family (one-byte jumps): beyond, connections are all read.
    if (addresses.filter((a) => a.includes(":")).length > 200 || addresses.filter((a) => !a.includes(":")).length > 200) return { addresses: [], interfaces: [] };
    return { addresses, interfaces: ignored.map((link) => link.ifname) };
  }

  /** Apply the static configuration, only the differences from `previous`. */
  private async configure(previous: ActivePolicy | undefined): Promise<void> {
    const { model, strategy } = this.policy;
    if (previous?.strategy !== strategy) {
      setPathManager(strategy, pathManagerSysctl(this.kernel));
      this.logger.info({ path_manager: strategy, reasons: planPolicy(model).reasons }, "path manager selected");
    }
    if (strategy === "kernel") {
      if (JSON.stringify(previous?.model.limits) !== JSON.stringify(model.limits)) await applyLimits(this.pm, model, this.logger);
      await syncEndpoints(this.pm, desiredEndpoints(model, this.tracker, policyCapabilities(this.kernel)), this.logger);
    } else if (previous?.strategy === "kernel") {
      // The userspace path manager ignores endpoints: leave none behind that the kernel would act on later.
      await syncEndpoints(this.pm, [], this.logger);
    }
  }

  private onEvent(event: PolicyEvent): void {
    const since = Date.now();
    if (event.event === "overflow") {
      this.logger.warn({ source: event.source }, "events were lost (receive buffer overflow): resynchronising");
      void this.resync("overflow");
      return;
    }
    if (event.event === "unknown") return;
    try {
      const named = event.ifname === undefined && event.ifindex !== undefined ? { ...event, ifname: this.tracker.nameOf(event.ifindex) } : event;
      const core = named as CorePolicyEvent;
      const connection = this.table.apply(core);
      this.options.observer?.event(named);
      const ours = event.event === "subflow_established" && this.executor.awaits(core);
      // The failure of a retried create is its series' to answer, not the rules'.
      let claimed = this.executor.observe(core);
      // A subflow across its connection's zone (`isolate`; the peer opened it) is closed at
      // once and no rule acts on it; nor on its subflow_closed, which is ours, not a failure.
      if (connection && event.event === "subflow_established" && this.zoneGuard.onSubflow(connection, core, ours)) claimed = true;
      if (event.event === "subflow_closed" && this.zoneGuard.closedByZone(event.token, core)) claimed = true;
      const { model, strategy, matcher } = this.policy;
      const decision = claimed ? NO_DECISION : decide(model, core, connection, matcher);
      if (decision.rule && this.options.observer) this.options.observer.ruleFired(ruleText(decision.rule.at));
      if (this.logger.isLevelEnabled("debug")) this.logger.debug({ event: event.event, token: event.token, rule: decision.rule ? ruleText(decision.rule.at) : null }, "event");
      // No copy of the rule's actions unless endpoints add some (the hot path of a busy server).
      const extra = strategy === "userspace" && !claimed && model.endpoints.length > 0 ? endpointActions(model, core, connection, matcher) : [];
      const actions = extra.length > 0 ? [...decision.actions, ...extra] : decision.actions;
      if (actions.length > 0) this.executor.run(actions, event.event, since);
      if (connection && !claimed && (event.event === "established" || event.event === "subflow_established")) {
        void this.schedulers.apply(model, connection, matcher, this.pm, this.options.dryRun);
      }
      const addressEvent = event.event === "address_added" || event.event === "address_removed";
      // The addresses of the interfaces no rule acts on may have changed.
      if (addressEvent || event.event === "iface_up" || event.event === "iface_down") this.filterEvents();
      if (strategy === "kernel" && addressEvent && event.address !== undefined) this.refreshEndpoints(event.address);
      if (event.event === "closed" && event.token !== undefined) {
        this.zoneGuard.forget(event.token);
        const cancelled = this.executor.forget(event.token);
        if (cancelled > 0) this.logger.info({ token: event.token, cancelled }, "connection closed: delayed actions and retries cancelled");
      }
    } catch (error) {
      // A bug of ours must not stop the daemon: log it with the event and go on.
      this.logger.error({ event: event.event, err: error }, "could not handle the event");
    }
  }

  /**
   * An address came or went: add or remove the endpoints of that one address. A sync
   * of every endpoint would undo what rules did since (a `set lte active` on
   * iface_down was reverted, and the subflow torn down, by the address_removed of the
   * same link going down). Serialised, so two address events never race on one endpoint.
   */
  private refreshEndpoints(address: string): void {
    if (this.options.dryRun) return;
    this.endpointUpdates = this.endpointUpdates.then(async () => {
      try {
        await syncEndpoints(this.pm, desiredEndpoints(this.policy.model, this.tracker, policyCapabilities(this.kernel)), this.logger, address);
      } catch (error) {
        this.logger.warn({ err: error, address }, "could not update the endpoints");
      }
    });
  }

  /** Rebuild the connection table from sock_diag (at start, after a restart, after an overflow). */
  private async resync(reason: string, options: { readonly prune?: boolean } = {}): Promise<void> {
    if (this.resyncing) return;
    this.resyncing = true;
    try {
      // With `prune`, subflows known before the dump and absent from it are gone (their
      // subflow_closed was dropped by the events filter); those added meanwhile stay.
      const knownBefore = options.prune ? new Set([...this.table.connections.values()].flatMap((c) => c.subflows)) : undefined;
      const status = await readStatus();
      const listening = new Set(status.listeners.map((l) => l.sport));
      const open = new Set<string>();
      for (const c of status.connections) {
        if (c.fallback) continue;
        open.add(c.token);
        if (!this.table.connections.has(c.token)) {
          const ifname = this.tracker.interfaceOf(c.saddr)?.ifname;
          this.table.apply({ event: "established", token: c.token, family: c.family, saddr: c.saddr, daddr: c.daddr, sport: c.sport, dport: c.dport, server_side: listening.has(c.sport), ...(ifname !== undefined ? { ifname } : {}) });
        }
        const connection = this.table.connections.get(c.token);
        for (const s of c.subflows) {
          const ifname = s.ifname ?? (s.ifindex !== undefined ? this.tracker.nameOf(s.ifindex) : undefined);
          const known = connection?.subflows.find((k) => k.saddr === s.saddr && k.sport === s.sport && k.daddr === s.daddr && k.dport === s.dport);
          if (known) Object.assign(known, { locid: s.locid, remid: s.remid, ifindex: s.ifindex, ifname, backup: s.backup });
          else this.table.apply({ event: "subflow_established", token: c.token, family: s.family, saddr: s.saddr, daddr: s.daddr, sport: s.sport, dport: s.dport, locid: s.locid, remid: s.remid, backup: s.backup, ...(s.ifindex !== undefined ? { ifindex: s.ifindex } : {}), ...(ifname !== undefined ? { ifname } : {}) });
        }
        if (connection && knownBefore) {
          const live = (k: SubflowState) => c.subflows.some((s) => k.saddr === s.saddr && k.sport === s.sport && k.daddr === s.daddr && k.dport === s.dport);
          const kept = connection.subflows.filter((k) => !knownBefore.has(k) || live(k));
          if (kept.length !== connection.subflows.length) connection.subflows = kept;
        }
      }
      this.executor.forgetPendingCreates();
      for (const token of [...this.table.connections.keys()]) {
        if (!open.has(token)) {
          this.table.connections.delete(token);
          this.executor.forget(token);
        }
      }
      this.logger.info({ reason, connections: this.table.connections.size }, "connections resynchronised");
      const crossing = this.zoneGuard.sweep(reason === "start" || reason === "reload" ? reason : "resync");
      if (crossing > 0) this.logger.info({ reason, subflows: crossing }, "closing the subflows that cross their connection's zone");
      this.options.observer?.resync(reason);
    } catch (error) {
      this.logger.warn({ reason, err: error }, "could not read the live connections");
    } finally {
      this.resyncing = false;
    }
  }

  /** Load the policy again; keep the running one if the new one has errors. */
  async reload(why: string): Promise<boolean> {
    const loaded = loadPolicy(this.options.config, { insecurePermissions: this.options.insecurePermissions });
    if (!loaded.ok) {
      for (const problem of loaded.problems) this.logger.error({ reason: why }, problem);
      this.logger.error({ reason: why }, "the new policy was rejected; the running policy stays in force");
      this.options.observer?.reloadFailed();
      return false;
    }
    for (const warning of loaded.warnings) this.logger.warn(warning);
    const previous = this.policy;
    this.policy = activate(loaded.model);
    this.reportKernelGaps(loaded.model);
    this.schedulers.stop();
    this.schedulers.start(loaded.model, this.policy.strategy, this.options.dryRun);
    this.programs.apply(loaded.model, this.kernel, this.options.dryRun);
    this.updateSampling();
    // Events the old policy went without and the new one reads: the table missed them.
    if (this.filterEvents()) await this.resync("reload", { prune: true });
    if (!this.options.dryRun) {
      try {
        await this.configure(previous);
      } catch (error) {
        this.logger.warn({ err: error }, "could not apply every change of the new policy");
      }
    }
    // A zone added (or an interface moved) applies to the connections open now.
    const crossing = this.zoneGuard.sweep("reload");
    if (crossing > 0) this.logger.info({ reason: why, subflows: crossing }, "closing the subflows that cross their connection's zone");
    if (JSON.stringify(previous.model.zones ?? []) !== JSON.stringify(loaded.model.zones ?? [])) this.reopenEndpointSubflows(why);
    this.logger.info({ reason: why, strategy: this.policy.strategy, rules: loaded.model.rules.length }, "policy reloaded");
    this.options.observer?.policyLoaded(loaded.files);
    return true;
  }

  /**
   * The zones changed: the subflow endpoints' subflows that a zone kept from the open
   * connections this host opened may be allowed now (a zone removed, an interface
   * moved). Those the connections lack are asked for again, through the same checks
   * (zones, limits); interfaces a connection has a subflow on already are left alone.
   */
  private reopenEndpointSubflows(why: string): void {
    const { model, strategy, matcher } = this.policy;
    if (strategy !== "userspace") return;
    for (const connection of this.table.connections.values()) {
      if (connection.serverSide || !connection.established || connection.saddr === undefined) continue;
      const established: CorePolicyEvent = { event: "established", token: connection.token, saddr: connection.saddr, ...(connection.ifname !== undefined ? { ifname: connection.ifname } : {}) };
      const missing = endpointActions(model, established, connection, matcher).filter((a) => a.op === "create" && a.via !== undefined && !this.zoneGuard.hasSubflowOn(connection, a.via));
      if (missing.length > 0) this.executor.run(missing, `reload (${why})`, Date.now());
    }
  }

  /** Stop: cancel pending actions, restore the kernel's state, close the sockets. */
  stop(signal: string): Promise<void> {
    this.stopping ??= (async () => {
      this.logger.info({ signal }, "stopping");
      this.delayed.cancelAll();
      this.schedulers.stop();
      if (!this.options.dryRun) this.programs.stop();
      this.sampler?.stop();
      this.zoneGuard?.stop();
      this.options.observer?.stopped();
      this.monitor?.close();
      try {
        if (this.saved) {
          await restoreState(this.pm, this.saved, this.logger);
          this.stateFile.remove();
        }
      } catch (error) {
        this.logger.warn({ err: error }, "could not restore everything");
      }
      this.pm?.close();
    })();
    return this.stopping;
  }

  watchFiles(): void {
    if (this.options.watch) watchPolicy(this.options.config, () => void this.reload("file changed"));
  }
}

/** `{feature: true|false|null}`, for the start-up log line. */
function summarise(kernel: KernelFeatures): Record<string, boolean | null> {
  return Object.fromEntries(Object.entries(kernel.features).map(([name, f]) => [name, f.available]));
}

function activate(model: PolicyModel): ActivePolicy {
  return { model, strategy: planPolicy(model).strategy, matcher: interfaceMatcher(model) };
}
