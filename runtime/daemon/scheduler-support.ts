// The policy's scheduler blocks at run time. Where the kernel has the BPF hook they
// are built and attached (runtime/bpf/attach.ts). Where it does not (mainline
// kernels, 6.18 included) the daemon approximates them with the path manager
// (--scheduler-fallback=approximate, the default): for each connection, the subflows
// the scheduler's first tier wants stay active and the others become backups
// (MP_PRIO), which the kernel's default scheduler then follows. Each scheduler's
// classification is logged once, at start.
import type { ConnectionState } from "../../compiler/connections.js";
import { evaluateCondition, type Facts } from "../../compiler/evaluate-condition.js";
import type { InterfaceMatcher } from "../../compiler/interfaces.js";
import type { PolicyModel } from "../../compiler/model.js";
import type { Strategy } from "../../compiler/plan.js";
import { classifySchedulers, type SchedulerFallback } from "../../compiler/scheduler/fallback.js";
import { attachPolicy, detachPolicy } from "../bpf/attach.js";
import { detectSchedulerHookIn } from "../bpf/hook.js";
import type { MptcpPathManager } from "../netlink/index.js";
import type { Logger } from "./logger.js";

export type SchedulerFallbackMode = "approximate" | "off";

export class SchedulerSupport {
  private attached = false;
  private fallbacks: SchedulerFallback[] = [];

  constructor(
    private readonly mode: SchedulerFallbackMode,
    private readonly logger: Logger,
  ) {}

  /** Attach where the kernel can, else classify and say once what the fallback does. */
  start(model: PolicyModel, strategy: Strategy, dryRun: boolean): void {
    this.fallbacks = [];
    if (model.schedulers.length === 0) return;
    const hook = detectSchedulerHookIn();
    if (hook.present) {
      if (dryRun) return void this.logger.info("dry run: schedulers not attached");
      try {
        const result = attachPolicy(model);
        this.attached = true;
        this.logger.info({ registered: result.registered, replaced: result.replaced, selected: result.selected }, "BPF schedulers attached");
      } catch (error) {
        this.logger.warn({ err: error }, "could not attach the BPF schedulers; the kernel's scheduler stays");
      }
      return;
    }
    this.logger.info(hook.sentence);
    if (this.mode === "off") return void this.logger.info("scheduler fallback off: the kernel's default scheduler decides");
    const fallbacks = classifySchedulers(model);
    for (const f of fallbacks) {
      const log = f.kind === "not_expressible" ? this.logger.warn.bind(this.logger) : this.logger.info.bind(this.logger);
      log({ scheduler: f.scheduler, fallback: f.kind, losses: f.losses }, f.summary);
    }
    if (strategy !== "userspace") {
      if (fallbacks.some((f) => f.active !== undefined)) this.logger.warn("the scheduler approximation marks subflows per connection, which needs the userspace path manager: not applied");
      return;
    }
    this.fallbacks = fallbacks;
  }

  /** Whether the daemon approximates the schedulers (no hook, fallback on, userspace path manager): the live tiers then run. */
  get approximating(): boolean {
    return this.fallbacks.length > 0;
  }

  /** Mark the connection's subflows backup or active as its scheduler's approximation wants. */
  async apply(model: PolicyModel, connection: ConnectionState, matcher: InterfaceMatcher, pm: MptcpPathManager, dryRun: boolean): Promise<void> {
    if (this.fallbacks.length === 0) return;
    const side = connection.serverSide ? "server" : "client";
    const base: Facts = {
      local: connection.saddr,
      remote: connection.daddr,
      localPort: connection.sport,
      remotePort: connection.dport,
      family: connection.family,
      side,
      subflows: connection.subflows.length,
    };
    const index = model.schedulers.findIndex((s) => s.selector === undefined || evaluateCondition(s.selector, base));
    const active = index < 0 ? undefined : this.fallbacks[index]?.active;
    if (!active) return;
    for (const subflow of connection.subflows) {
      const { saddr, sport, daddr, dport } = subflow;
      if (saddr === undefined || sport === undefined || daddr === undefined || dport === undefined) continue;
      const facts: Facts = { ...base, ifaces: subflow.ifname !== undefined ? matcher(subflow.ifname) : undefined, backup: subflow.backup };
      const backup = !evaluateCondition(active, facts);
      if (backup === subflow.backup) continue;
      const log = this.logger.child({ token: connection.token, scheduler: model.schedulers[index]?.name, action: "set" });
      const request = `SET_FLAGS token ${connection.token} ${saddr}:${sport} -> ${daddr}:${dport} ${backup ? "backup" : "active"}`;
      if (dryRun) {
        log.info({ result: "dry-run", request }, "would send (scheduler approximation)");
        continue;
      }
      try {
        await pm.setSubflowBackup(connection.token, { address: saddr, port: sport }, { address: daddr, port: dport }, backup);
        subflow.backup = backup;
        log.info({ result: "ok", request }, "scheduler approximation");
      } catch (error) {
        log.debug({ result: "failed", request, err: error }, "scheduler approximation not applied");
      }
    }
  }

  stop(): void {
    if (!this.attached) return;
    try {
      detachPolicy();
      this.attached = false;
    } catch (error) {
      this.logger.warn({ err: error }, "could not detach the BPF schedulers");
    }
  }
}
