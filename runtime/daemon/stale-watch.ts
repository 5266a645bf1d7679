// Turns the sampler's subflows into `subflow_stale` / `subflow_recovered` events for
// the connections the daemon follows. The events carry what `subflow_established`
// carries (addresses, ports, ids, backup, interface), so rules test them alike.
import type { ConnectionTable } from "../../compiler/connections.js";
import type { PolicyEvent } from "../../compiler/events.js";
import type { InterfaceTracker, SubflowSocket } from "../netlink/index.js";
import { StaleDetector, type ProgressSample } from "./stale-detector.js";

/** The events a policy must have rules for before the daemon pays for stale detection. */
export const STALE_EVENTS: readonly string[] = ["subflow_stale", "subflow_recovered"];

export function subflowKey(s: { token: string; saddr: string; sport: number; daddr: string; dport: number }): string {
  return `${s.token} ${s.saddr} ${s.sport} ${s.daddr} ${s.dport}`;
}

export class StaleWatch {
  private readonly detector = new StaleDetector();

  constructor(
    private readonly table: ConnectionTable,
    private readonly tracker: InterfaceTracker,
  ) {}

  /** The events one sample gives, with how long each subflow had been stalled. */
  events(now: number, subflows: readonly SubflowSocket[]): { event: PolicyEvent; stalledMs: number }[] {
    const watched = new Map<string, SubflowSocket>();
    const samples: ProgressSample[] = [];
    for (const s of subflows) {
      if (!s.tcp || !this.table.connections.has(s.token)) continue;
      const key = subflowKey(s);
      watched.set(key, s);
      samples.push({ key, unacked: s.tcp.unacked, bytesAcked: s.tcp.bytes_acked, lastAckRecvMs: s.tcp.last_ack_recv_ms, rttUs: s.rtt_us ?? 0, rttvarUs: s.rttvar_us ?? 0 });
    }
    return this.detector.update(now, samples).map((t) => ({ event: this.eventOf(t.kind, watched.get(t.key)!), stalledMs: t.stalledMs }));
  }

  private eventOf(kind: "subflow_stale" | "subflow_recovered", s: SubflowSocket): PolicyEvent {
    const known = this.table.connections.get(s.token)?.subflows.find((k) => k.saddr === s.saddr && k.sport === s.sport && k.daddr === s.daddr && k.dport === s.dport);
    // The interface: what the kernel's event said, else the bound device, else whoever has the local address.
    const ifindex = known?.ifindex ?? (s.ifindex !== 0 ? s.ifindex : this.tracker.interfaceOf(s.saddr)?.ifindex);
    const ifname = known?.ifname ?? (ifindex !== undefined ? this.tracker.nameOf(ifindex) : undefined);
    return {
      event: kind,
      token: s.token,
      family: s.family,
      saddr: s.saddr,
      daddr: s.daddr,
      sport: s.sport,
      dport: s.dport,
      locid: s.locid,
      remid: s.remid,
      backup: s.backup,
      ...(ifindex !== undefined ? { ifindex } : {}),
      ...(ifname !== undefined ? { ifname } : {}),
      time: Date.now(),
    };
  }
}
