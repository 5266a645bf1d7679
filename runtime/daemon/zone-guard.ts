// Keeping connections in their zones (`isolate`) on the kernel: the interfaces a
// subflow uses, read from the interface tracker; the closing of subflows that cross
// (the peer's joins, and what was open at start or before a reload). The decisions
// are compiler/zones.ts's, shared with `simulate`.
import ipaddr from "ipaddr.js";
import type { ConnectionState, ConnectionTable, SubflowState } from "../../compiler/connections.js";
import type { PlannedAction } from "../../compiler/decide.js";
import { actionCrossing, crossingInterface, zonesFor, type SubflowPath, type Zones } from "../../compiler/zones.js";
import type { InterfaceMatcher } from "../../compiler/interfaces.js";
import type { PolicyModel } from "../../compiler/model.js";
import { NetlinkError, SockDiag, type InterfaceTracker, type MptcpPathManager } from "../netlink/index.js";
import { RouteLookup } from "../doctor/routes.js";
import type { Logger } from "./logger.js";
import type { DaemonObserver } from "./metrics-observer.js";

/** A subflow as the events and sock_diag tell it. */
export interface SubflowFacts {
  readonly saddr?: string | undefined;
  readonly daddr?: string | undefined;
  readonly sport?: number | undefined;
  readonly dport?: number | undefined;
  readonly ifindex?: number | undefined;
  readonly ifname?: string | undefined;
  /** When its event was received (ms since the epoch): the close is logged with how long after. */
  readonly time?: number | undefined;
}

export type CloseCause = "join" | "start" | "reload" | "resync";

export interface ZoneGuardContext {
  readonly pm: MptcpPathManager;
  readonly tracker: InterfaceTracker;
  readonly table: ConnectionTable;
  readonly logger: Logger;
  readonly dryRun: boolean;
  readonly observer?: DaemonObserver;
  /** false where SUBFLOW_CREATE does not bind the subflow to its interface (Linux 6.1): the daemon's own subflows follow the routes. */
  readonly createBinds?: boolean | null;
  policy(): { readonly model: PolicyModel; readonly matcher: InterfaceMatcher };
}

export class ZoneGuard {
  /** Subflows closed for crossing a zone since the daemon started. */
  closed = 0;
  /** Subflows being closed, so a second event for one sends no second request. */
  private readonly closing = new Set<string>();
  /** Asked on a join from behind a router: made on first use. */
  private routes: RouteLookup | undefined;
  /** Subflows closed here whose subflow_closed has not come yet: the rules do not see it (nothing failed). */
  private readonly closedHere = new Set<string>();

  constructor(private readonly context: ZoneGuardContext) {}


  get zones(): Zones {
    const { model, matcher } = this.context.policy();
    return zonesFor(model, matcher);
  }

  /** The local interface of a subflow or an address: the one it is bound to, or the one holding the address. */
  localInterface(facts: { readonly ifindex?: number | undefined; readonly ifname?: string | undefined; readonly saddr?: string | undefined }): string | undefined {
    const { tracker } = this.context;
    return facts.ifname ?? (facts.ifindex !== undefined ? tracker.nameOf(facts.ifindex) : undefined) ?? (facts.saddr !== undefined ? tracker.interfaceOf(facts.saddr)?.ifname : undefined);
  }

  /** The interface whose network holds a remote address: its packets go out there whatever the source address. */
  remoteInterface(address: string | undefined): string | undefined {
    if (address === undefined || !ipaddr.isValid(address)) return undefined;
    const peer = ipaddr.parse(address);
    let best: { ifname: string; prefixlen: number } | undefined;
    for (const link of this.context.tracker.list()) {
      for (const own of link.addresses) {
        if (own.family === "ipv6" && own.address.toLowerCase().startsWith("fe80:")) continue;
        const parsed = ipaddr.parse(own.address);
        if (parsed.kind() !== peer.kind() || !peer.match(parsed, own.prefixlen)) continue;
        if (!best || own.prefixlen > best.prefixlen) best = { ifname: link.ifname, prefixlen: own.prefixlen };
      }
    }
    return best?.ifname;
  }

  /**
   * A subflow's path: its local interface, and the one whose network holds its remote
   * address. Both count even for a subflow bound to its device, whose packets the
   * remote one does not carry: the events do not tell a bound subflow from one whose
   * interface was looked up by address, and a subflow to an address of another zone's
   * network is one no administrator wants to see in `ss` for an isolated connection.
   */
  pathOf(facts: SubflowFacts): SubflowPath {
    return { local: this.localInterface(facts), remote: this.remoteInterface(facts.daddr) };
  }

  /** Whether the connection has a subflow on this policy interface (by its local interface). */
  hasSubflowOn(connection: ConnectionState, iface: string): boolean {
    const { matcher } = this.context.policy();
    return connection.subflows.some((s) => {
      const ifname = this.localInterface(s);
      return ifname !== undefined && matcher(ifname).includes(iface);
    });
  }

  /** The zone of a connection: of its first subflow's local interface. */
  zoneOf(connection: ConnectionState): number {
    return this.zones.ofIfname(connection.ifname ?? this.localInterface({ saddr: connection.saddr }));
  }

  /** The interface a subflow of this connection crosses to, if it crosses. */
  crossing(connection: ConnectionState, facts: SubflowFacts): string | undefined {
    const zones = this.zones;
    if (!zones.active) return undefined;
    return crossingInterface(zones, this.zoneOf(connection), this.pathOf(facts));
  }

  /** Why an action's request (a create from `saddr` to `daddr`, an announcement of `saddr`) would cross the connection's zone; undefined when it would not. */
  refusal(connection: ConnectionState, action: PlannedAction, facts: SubflowFacts): string | undefined {
    const zones = this.zones;
    if (!zones.active) return undefined;
    return actionCrossing(zones, this.zoneOf(connection), action, this.pathOf(facts));
  }

  /**
   * A subflow came up: close it if it crosses its connection's zone (the peer opened
   * it: the kernel accepts joins on any address). True when it does, so the rules do
   * not act on a subflow that is going away.
   */
  onSubflow(connection: ConnectionState, facts: SubflowFacts, ours = false): boolean {
    const across = this.crossing(connection, facts);
    if (across !== undefined) {
      void this.close(connection, facts, across, "join");
      return true;
    }
    // A join the peer opened to an address of the zone from an address on no network of
    // ours (behind a router) may still travel over another zone's link: the kernel's
    // route back to the peer says which link its packets leave by. Not for our own
    // creates, which are bound to their device whatever the routes say, except where
    // the kernel does not bind them.
    if ((!ours || this.context.createBinds === false) && this.zones.active && facts.saddr !== undefined && facts.daddr !== undefined && this.remoteInterface(facts.daddr) === undefined) void this.checkRoute(connection, facts);
    return false;
  }

  private async checkRoute(connection: ConnectionState, facts: SubflowFacts): Promise<void> {
    let answer: Awaited<ReturnType<RouteLookup["lookup"]>>;
    try {
      answer = await (this.routes ??= new RouteLookup()).lookup({ dst: facts.daddr as string, src: facts.saddr as string });
    } catch (error) {
      this.context.logger.warn({ token: connection.token, err: error }, "could not look up the route of a join: its zone is judged by its addresses only");
      return;
    }
    const egress = answer.ok && answer.route.oif !== undefined ? this.context.tracker.nameOf(answer.route.oif) : undefined;
    this.context.logger.debug({ token: connection.token, subflow: `${facts.saddr} -> ${facts.daddr}`, egress: egress ?? null, result: answer.ok ? "ok" : answer.errno }, "join from behind a router: the route back");
    if (egress === undefined) return;
    const zones = this.zones;
    const across = crossingInterface(zones, this.zoneOf(connection), { local: this.localInterface(facts), remote: egress });
    if (across !== undefined && this.context.table.connections.get(connection.token) === connection) await this.close(connection, facts, across, "join");
  }

  /** Close the route lookup socket (at stop). */
  stop(): void {
    this.routes?.close();
    this.routes = undefined;
  }

  /** Whether this subflow_closed is of a subflow closed here for crossing its zone (once: the entry goes). */
  closedByZone(token: string | undefined, facts: SubflowFacts): boolean {
    // Most subflow_closed events of a busy server are nothing of ours: no key is built for them.
    return this.closedHere.size > 0 && this.closedHere.delete(keyOf(token, facts));
  }

  /** A connection closed: forget its subflows closed here. */
  forget(token: string): void {
    if (this.closedHere.size === 0) return;
    for (const key of this.closedHere) if (key.startsWith(`${token} `)) this.closedHere.delete(key);
  }

  /**
   * Close every subflow of the followed connections that crosses its zone (at start,
   * after a reload or an overflow). The first subflow is the zone's measure, never
   * closed: closing it would end the connection.
   */
  sweep(cause: CloseCause): number {
    if (!this.zones.active) return 0;
    let found = 0;
    for (const connection of this.context.table.connections.values()) {
      for (const subflow of connection.subflows) {
        if (subflow.saddr === connection.saddr && subflow.sport === connection.sport && subflow.daddr === connection.daddr && subflow.dport === connection.dport) continue;
        const across = this.crossing(connection, subflow);
        if (across === undefined) continue;
        found++;
        void this.close(connection, subflow, across, cause);
      }
    }
    return found;
  }

  private async close(connection: ConnectionState, facts: SubflowFacts | SubflowState, across: string, cause: CloseCause): Promise<void> {
    const { saddr, sport, daddr, dport } = facts;
    if (saddr === undefined || sport === undefined || daddr === undefined || dport === undefined) return;
    const key = keyOf(connection.token, facts);
    if (this.closing.has(key)) return;
    const zones = this.zones;
    const zone = this.zoneOf(connection);
    const fields = { token: connection.token, subflow: `${saddr}:${sport} -> ${daddr}:${dport}`, iface: across, zone: zones.describe(zone), cause };
    let request = `SUBFLOW_DESTROY token ${connection.token} ${saddr}:${sport} -> ${daddr}:${dport}`;
    if (this.context.dryRun) {
      this.context.logger.warn({ ...fields, result: "dry-run", request }, "subflow across a zone: would close it");
      return;
    }
    this.closing.add(key);
    try {
      this.closedHere.add(key);
      const local = { address: saddr, port: sport };
      const remote = { address: daddr, port: dport };
      try {
        await this.context.pm.destroySubflow(connection.token, local, remote);
      } catch (error) {
        // A connection the in-kernel path manager serves (opened before the userspace one
        // was selected) is not the userspace path manager's to change: 6.18 answers
        // ENOENT, older kernels EINVAL. Abort the subflow's socket instead; if that finds
        // no socket either, the subflow is gone.
        if (!(error instanceof NetlinkError && (error.code === "EINVAL" || error.code === "ENOENT"))) throw error;
        request = `SOCK_DESTROY ${saddr}:${sport} -> ${daddr}:${dport} (SUBFLOW_DESTROY: ${error.code})`;
        await abortSocket(local, remote, facts.ifindex ?? 0);
      }
      this.closed++;
      this.context.observer?.zoneClosed?.(cause);
      const after = "time" in facts && facts.time !== undefined ? { after_event_ms: Date.now() - facts.time } : {};
      this.context.logger.warn({ ...fields, result: "ok", request, closed_total: this.closed, ...after }, `subflow across a zone closed: it uses ${across}, outside ${zones.describe(zone)}`);
    } catch (error) {
      this.closedHere.delete(key);
      const code = error instanceof NetlinkError ? error.code : "failed";
      // Gone already (the peer closed it, or the connection ended): nothing crosses any more.
      if (code === "ENOENT" || code === "EINVAL" || code === "ENOTCONN") this.context.logger.debug({ ...fields, result: code, request }, "subflow across a zone: gone before it was closed");
      else this.context.logger.warn({ ...fields, result: code, request }, `could not close a subflow across a zone: ${String((error as Error)?.message ?? error)}`);
    } finally {
      this.closing.delete(key);
    }
  }
}

/** sock_diag's SOCK_DESTROY on one subflow socket. */
async function abortSocket(local: { address: string; port: number }, remote: { address: string; port: number }, ifindex: number): Promise<void> {
  const diag = new SockDiag();
  try {
    await diag.destroy(local, remote, ifindex);
  } finally {
    diag.close();
  }
}

function keyOf(token: string | undefined, facts: SubflowFacts): string {
  return `${token} ${facts.saddr}:${facts.sport} ${facts.daddr}:${facts.dport}`;
}
