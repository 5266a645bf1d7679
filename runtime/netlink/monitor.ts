// Everything `mptcp-policy monitor` shows, as one stream of PolicyEvents: the
// mptcp_pm_events group of the kernel's path manager on a socket of its own
// with a large receive buffer, and interface changes from the InterfaceTracker,
// which also names the interface of each subflow event. When the kernel drops
// events for lack of buffer space an `overflow` event says so.
import { NETLINK_GENERIC, MPTCP_PM_EV_GRP_NAME } from "./constants.js";
import { NetlinkError } from "./errors.js";
import { resolveFamily } from "./genl.js";
import { InterfaceTracker } from "./interfaces.js";
import { parseAddress } from "./addresses.js";
import { eventFilterProgram, ipv4Word } from "./event-filter.js";
import { IGNORED_CONNECTIONS, trackingEventFilterProgram } from "./ebpf-event-filter.js";
import { decodeMptcpEvent } from "./mptcp-codec.js";
import { MPTCP_EVENT_NAMES, type PolicyEvent, type PolicyEventName } from "./policy-event.js";
import { NetlinkSocket, type NetlinkSocketOptions } from "./socket.js";

export interface MonitorOptions extends NetlinkSocketOptions {
  /** Follow interfaces and addresses too (default true). */
  readonly interfaces?: boolean;
}

/** 8 MiB: a burst of tens of thousands of events fits before the kernel drops any. */
export const EVENT_RECEIVE_BUFFER = 8 << 20;

/** Events whose `saddr` is an address of this host. */
const LOCAL_SADDR_EVENTS = new Set(["created", "established", "subflow_established", "subflow_closed", "subflow_priority"]);

export type EventListener = (event: PolicyEvent) => void;

/** Which filter dropEvents attached: eBPF (follows dropped connections), classic, or none. */
export interface EventFilterKind {
  readonly kind: "ebpf" | "classic" | "none";
  /** Why the eBPF filter could not be used (the kernel refused it, or it could not be built), when the classic one stands in for it. */
  readonly ebpfRefused?: string;
}

export class EventMonitor {
  private readonly listeners: EventListener[] = [];
  /** Why eBPF could not be used, once it could not: later filters go straight to the classic one. */
  private ebpfRefusal: string | undefined;

  private constructor(
    private readonly socket: NetlinkSocket,
    private readonly familyId: number,
    readonly tracker: InterfaceTracker | undefined,
  ) {}

  static async start(options: MonitorOptions = {}): Promise<EventMonitor> {
    const { interfaces = true, ...socketOptions } = options;
    const socket = new NetlinkSocket(NETLINK_GENERIC, { receiveBuffer: EVENT_RECEIVE_BUFFER, ...socketOptions });
    let tracker: InterfaceTracker | undefined;
    try {
      const family = await resolveFamily(socket, "mptcp_pm");
      const group = family.groups.get(MPTCP_PM_EV_GRP_NAME);
      if (group === undefined)
        throw new NetlinkError({
          errno: 2,
          request: "nlctrl GETFAMILY mptcp_pm",
          extack: `the kernel has no '${MPTCP_PM_EV_GRP_NAME}' group (MPTCP events need Linux 5.12 or newer)`,
        });
      tracker = interfaces ? await InterfaceTracker.start({ ...socketOptions, receiveBuffer: EVENT_RECEIVE_BUFFER }) : undefined;
      const monitor = new EventMonitor(socket, family.id, tracker);
      socket.onMulticast((message) => {
        if (message.type !== family.id) return;
        let event: PolicyEvent;
        try {
          event = decodeMptcpEvent(message.payload);
        } catch {
          return; // a malformed event: nothing to report
        }
        monitor.emit(monitor.complete(event));
      });
      socket.onOverflow(() => monitor.emit({ event: "overflow", time: Date.now(), source: "mptcp" }));
      tracker?.onEvent((event) => monitor.emit(event));
      socket.addMembership(group);
      return monitor;
    } catch (error) {
      socket.close();
      tracker?.close();
      throw error;
    }
  }

  /**
   * Have the kernel drop these MPTCP events before they reach this socket (a socket
   * filter; an empty list removes it). With addresses, `bySource.events` from them are
   * dropped too, and an eBPF filter follows the connections opened from them, so that
   * their later events (`closed` included) go as well; where the kernel refuses eBPF
   * (no CAP_BPF, say) the classic filter drops what it can tell by address alone. What
   * was dropped is gone: a caller that widens the list reads the state again.
   */
  dropEvents(names: readonly PolicyEventName[], bySource?: { readonly events: readonly PolicyEventName[]; readonly addresses: readonly string[] }): EventFilterKind {
    const commandsOf = (list: readonly PolicyEventName[]) => [...MPTCP_EVENT_NAMES].filter(([, name]) => list.includes(name)).map(([cmd]) => cmd);
    const commands = commandsOf(names);
    const addresses = bySource?.addresses ?? [];
    if (bySource && addresses.length > 0) {
      const bytesOf = (a: string) => Buffer.from(parseAddress(a).bytes);
      const v4 = addresses.filter((a) => !a.includes(":"));
      const v6 = addresses.filter((a) => a.includes(":")).map(bytesOf);
      const sourceCommands = commandsOf(bySource.events);
      if (this.ebpfRefusal === undefined) {
        let program: Buffer | undefined;
        try {
          program = trackingEventFilterProgram(this.familyId, commands, { commands: sourceCommands, ipv4: v4.map(bytesOf), ipv6: v6 });
        } catch (error) {
          // Our assembler's limit (a jump too far, say), not the kernel's refusal.
          this.ebpfRefusal = `the eBPF program could not be built: ${(error as Error).message}`;
        }
        if (program) {
          try {
            this.socket.setBpfFilter(program, IGNORED_CONNECTIONS);
            return { kind: "ebpf" };
          } catch (error) {
            this.ebpfRefusal = (error as Error).message;
          }
        }
      }
      this.socket.setFilter(eventFilterProgram(this.familyId, commands, { commands: sourceCommands, ipv4: v4.map(ipv4Word), ipv6: v6 }));
      return { kind: "classic", ...(this.ebpfRefusal !== undefined ? { ebpfRefused: this.ebpfRefusal } : {}) };
    }
    this.socket.setFilter(commands.length > 0 ? eventFilterProgram(this.familyId, commands) : undefined);
    return { kind: commands.length > 0 ? "classic" : "none" };
  }

  onEvent(listener: EventListener): void {
    this.listeners.push(listener);
  }

  /** A socket failed (not an overflow, which is an event): events stop coming. */
  onError(listener: (error: Error) => void): void {
    this.socket.onError(listener);
    this.tracker?.onError(listener);
  }

  close(): void {
    this.socket.close();
    this.tracker?.close();
  }

  /**
   * Add the receive time and the interface: the kernel's if_idx named, or, when the
   * kernel sent none (it does only for subflows bound to a device), the interface
   * that holds the local address of a connection or subflow event.
   */
  private complete(decoded: PolicyEvent): PolicyEvent {
    // The decoder's object is ours alone: filled in place (a copy per event cost more than the decoding).
    const event = decoded as { -readonly [K in keyof PolicyEvent]: PolicyEvent[K] };
    event.time = Date.now();
    if (!this.tracker) return event;
    if (event.ifindex !== undefined) {
      const ifname = this.tracker.nameOf(event.ifindex);
      if (ifname !== undefined) event.ifname = ifname;
      return event;
    }
    if (event.saddr !== undefined && LOCAL_SADDR_EVENTS.has(event.event)) {
      const link = this.tracker.interfaceOf(event.saddr);
      if (link) {
        event.ifindex = link.ifindex;
        event.ifname = link.ifname;
      }
    }
    return event;
  }

  private emit(event: PolicyEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
