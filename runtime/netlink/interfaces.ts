// Interfaces and addresses of a network namespace, kept current through
// rtnetlink: the tracker joins the link and address multicast groups, then
// dumps links and addresses, and from then on applies every change. Names and
// glob patterns ("usb*", "wwan[0-9]") resolve to the current interfaces, so a
// policy written with names follows renames, hot-plugged modems and new
// addresses. Changes come out as PolicyEvents: iface_up, iface_down,
// address_added, address_removed (and overflow, after which the state is
// re-read).
import picomatch from "picomatch";
import { familyName, formatAddress, type Family } from "./addresses.js";
import type { NlMessage } from "./codec.js";
import {
  IFF_RUNNING,
  IFF_UP,
  NETLINK_ROUTE,
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTNLGRP_IPV4_IFADDR,
  RTNLGRP_IPV6_IFADDR,
  RTNLGRP_LINK,
} from "./constants.js";
import type { PolicyEvent } from "./policy-event.js";
import { netlinkRt } from "./native.js";
import { NetlinkSocket, type NetlinkSocketOptions } from "./socket.js";

const IFA_F_DADFAILED = 0x08;
const IFA_F_TENTATIVE = 0x40;

export interface AddressInfo {
  readonly ifindex: number;
  readonly family: Family;
  readonly address: string;
  readonly prefixlen: number;
  readonly scope: number;
  /** IPv6 duplicate address detection still running (or failed): not usable yet. */
  readonly tentative: boolean;
}

export interface LinkInfo {
  readonly ifindex: number;
  readonly ifname: string;
  /** Raw IFF_* flags. */
  readonly flags: number;
  /** IFF_UP and IFF_RUNNING: administratively up and with carrier (operationally up). */
  readonly up: boolean;
  readonly addresses: readonly AddressInfo[];
}

/** Decoded rtnetlink link message (pure; exported for the codec tests). */
export interface LinkMessageInfo {
  readonly deleted: boolean;
  readonly ifindex: number;
  readonly ifname: string | undefined;
  readonly flags: number;
}

export function decodeLinkMessage(message: NlMessage): LinkMessageInfo {
  const parsed = netlinkRt().parseLinkMessage(message.payload);
  return {
    deleted: message.type === RTM_DELLINK,
    ifindex: message.payload.readInt32LE(4),
    ifname: parsed.attrs.ifname,
    flags: message.payload.readUInt32LE(8),
  };
}

/** Decoded rtnetlink address message (pure; exported for the codec tests). */
export interface AddressMessageInfo extends AddressInfo {
  readonly deleted: boolean;
}

export function decodeAddressMessage(message: NlMessage): AddressMessageInfo | undefined {
  const parsed = netlinkRt().parseAddressMessage(message.payload);
  const family = familyName(message.payload[0] ?? 0);
  const bytes = parsed.attrs.local ?? parsed.attrs.address;
  const address = bytes ? formatAddress(bytes) : undefined;
  if (!family || !address) return undefined;
  // IFA_FLAGS (u32) supersedes the 8-bit ifa_flags when present.
  const flags = (message.payload[2] ?? 0) | flagBits(parsed.attrs.flags);
  return {
    deleted: message.type === RTM_DELADDR,
    ifindex: message.payload.readUInt32LE(4),
    family,
    address,
    prefixlen: message.payload[1] ?? 0,
    scope: message.payload[3] ?? 0,
    tentative: (flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) !== 0,
  };
}

function flagBits(flags: { tentative?: true; dadfailed?: true } | undefined): number {
  return (flags?.tentative ? IFA_F_TENTATIVE : 0) | (flags?.dadfailed ? IFA_F_DADFAILED : 0);
}

/** RTM_GETLINK / RTM_GETADDR dump payloads (ifinfomsg / ifaddrmsg, family unspecified). */
export const encodeDumpLinks = (): Buffer => Buffer.alloc(16);
export const encodeDumpAddresses = (family = 0): Buffer => {
  const payload = Buffer.alloc(8);
  payload[0] = family;
  return payload;
};

export type InterfaceListener = (event: PolicyEvent) => void;

interface MutableLink {
  ifindex: number;
  ifname: string;
  flags: number;
  up: boolean;
  addresses: AddressInfo[];
}

export class InterfaceTracker {
  private readonly links = new Map<number, MutableLink>();
  private readonly listeners: InterfaceListener[] = [];
  private readonly matchers = new Map<string, (name: string) => boolean>();
  /**
   * Answers of addresses() and interfaceOf(), kept until the next change: the daemon
   * asks them for every event and action, and links change seldom.
   */
  private readonly addressCache = new Map<string, AddressInfo[]>();
  private readonly linkOfAddress = new Map<string, LinkInfo | undefined>();
  private resyncing = false;

  private constructor(
    private readonly events: NetlinkSocket,
    private readonly requests: NetlinkSocket,
  ) {}

  /** Subscribe, then read every link and address. Events start after the initial state is known. */
  static async start(options: NetlinkSocketOptions = {}): Promise<InterfaceTracker> {
    const events = new NetlinkSocket(NETLINK_ROUTE, { receiveBuffer: 4 << 20, ...options });
    let requests: NetlinkSocket | undefined;
    try {
      requests = new NetlinkSocket(NETLINK_ROUTE, { netns: options.netns, timeoutMs: options.timeoutMs });
      const tracker = new InterfaceTracker(events, requests);
      const queued: NlMessage[] = [];
      let loading = true;
      events.onMulticast((message) => (loading ? queued.push(message) : tracker.apply(message, true)));
      events.onOverflow(() => void tracker.resync());
      for (const group of [RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR]) events.addMembership(group);
      await tracker.load();
      loading = false;
      // Changes that raced with the dump: applying them again is harmless, and they announce nothing new.
      for (const message of queued) tracker.apply(message, false);
      return tracker;
    } catch (error) {
      events.close();
      requests?.close();
      throw error;
    }
  }

  /** iface_up, iface_down, address_added, address_removed and overflow events. */
  onEvent(listener: InterfaceListener): void {
    this.listeners.push(listener);
  }

  /** The event socket failed (not an overflow): changes stop coming. */
  onError(listener: (error: Error) => void): void {
    this.events.onError(listener);
  }

  close(): void {
    this.events.close();
    this.requests.close();
  }

  /** Every interface, by index. */
  list(): LinkInfo[] {
    return [...this.links.values()].sort((a, b) => a.ifindex - b.ifindex);
  }

  byIndex(ifindex: number): LinkInfo | undefined {
    return this.links.get(ifindex);
  }

  byName(ifname: string): LinkInfo | undefined {
    for (const link of this.links.values()) if (link.ifname === ifname) return link;
    return undefined;
  }

  nameOf(ifindex: number): string | undefined {
    return this.links.get(ifindex)?.ifname;
  }

  /** Interfaces whose name is `pattern` or matches it as a glob (picomatch: *, ?, [..], {a,b}). */
  resolve(pattern: string): LinkInfo[] {
    let match = this.matchers.get(pattern);
    if (!match) {
      match = picomatch(pattern, { dot: true });
      this.matchers.set(pattern, match);
    }
    const matcher = match;
    return this.list().filter((link) => link.ifname === pattern || matcher(link.ifname));
  }

  /** Usable (not tentative) addresses of the interfaces matching `pattern`, optionally of one family. */
  addresses(pattern: string, family?: Family): readonly AddressInfo[] {
    const key = family === undefined ? pattern : `${family}\0${pattern}`;
    let found = this.addressCache.get(key);
    if (found === undefined) {
      found = this.resolve(pattern).flatMap((link) => link.addresses.filter((a) => !a.tentative && (family === undefined || a.family === family)));
      this.addressCache.set(key, found);
    }
    return found;
  }

  /** Which interface holds this address, if any. */
  interfaceOf(address: string): LinkInfo | undefined {
    if (this.linkOfAddress.has(address)) return this.linkOfAddress.get(address);
    let found: LinkInfo | undefined;
    for (const link of this.links.values())
      if (link.addresses.some((a) => a.address === address)) {
        found = link;
        break;
      }
    // Bounded: addresses that are not this host's (a peer's, asked about by mistake) must not pile up.
    if (this.linkOfAddress.size >= 1024) this.linkOfAddress.clear();
    this.linkOfAddress.set(address, found);
    return found;
  }

  /** Links or addresses changed: what was worked out from them no longer holds. */
  private changed(): void {
    this.addressCache.clear();
    this.linkOfAddress.clear();
  }

  private emit(event: PolicyEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private async load(): Promise<void> {
    const links = await this.requests.request(RTM_GETLINK, encodeDumpLinks(), { dump: true, describe: "rtnetlink RTM_GETLINK dump" });
    const addresses = await this.requests.request(RTM_GETADDR, encodeDumpAddresses(), { dump: true, describe: "rtnetlink RTM_GETADDR dump" });
    for (const message of [...links, ...addresses]) this.apply(message, false);
  }

  /** After an overflow: re-read everything and report the differences as events. */
  private async resync(): Promise<void> {
    this.emit({ event: "overflow", time: Date.now(), source: "rtnetlink" });
    if (this.resyncing) return;
    this.resyncing = true;
    try {
      const before = new Map([...this.links].map(([i, l]) => [i, { ...l, addresses: [...l.addresses] }]));
      this.links.clear();
      this.changed();
      await this.load();
      const time = Date.now();
      for (const [ifindex, old] of before) {
        const now = this.links.get(ifindex);
        for (const a of old.addresses)
          if (!now?.addresses.some((b) => b.address === a.address) && !a.tentative) this.emitAddress("address_removed", old.ifname, a, time);
        if (old.up && !now?.up) this.emit({ event: "iface_down", time, ifindex, ifname: old.ifname });
      }
      for (const [ifindex, now] of this.links) {
        const old = before.get(ifindex);
        if (now.up && !old?.up) this.emit({ event: "iface_up", time, ifindex, ifname: now.ifname });
        for (const a of now.addresses)
          if (!a.tentative && !old?.addresses.some((b) => b.address === a.address && !b.tentative)) this.emitAddress("address_added", now.ifname, a, time);
      }
    } catch {
      // The next overflow or change tries again; the tracker keeps what it had.
    } finally {
      this.resyncing = false;
    }
  }

  private emitAddress(event: "address_added" | "address_removed", ifname: string | undefined, a: AddressInfo, time: number): void {
    this.emit({ event, time, ifindex: a.ifindex, ...(ifname !== undefined ? { ifname } : {}), family: a.family, address: a.address, prefixlen: a.prefixlen });
  }

  /** Apply one rtnetlink message; `announce` emits events for what changed. */
  private apply(message: NlMessage, announce: boolean): void {
    this.changed();
    try {
      if (message.type === RTM_NEWLINK || message.type === RTM_DELLINK) this.applyLink(decodeLinkMessage(message), announce);
      else if (message.type === RTM_NEWADDR || message.type === RTM_DELADDR) {
        const address = decodeAddressMessage(message);
        if (address) this.applyAddress(address, announce);
      }
    } catch {
      // A message we cannot read changes nothing.
    }
  }

  private applyLink(info: LinkMessageInfo, announce: boolean): void {
    const time = Date.now();
    const existing = this.links.get(info.ifindex);
    if (info.deleted) {
      if (!existing) return;
      this.links.delete(info.ifindex);
      if (!announce) return;
      for (const a of existing.addresses) if (!a.tentative) this.emitAddress("address_removed", existing.ifname, a, time);
      if (existing.up) this.emit({ event: "iface_down", time, ifindex: info.ifindex, ifname: existing.ifname });
      return;
    }
    const up = (info.flags & IFF_UP) !== 0 && (info.flags & IFF_RUNNING) !== 0;
    const link: MutableLink = existing ?? { ifindex: info.ifindex, ifname: info.ifname ?? `if${info.ifindex}`, flags: 0, up: false, addresses: [] };
    const wasUp = existing?.up ?? false;
    if (info.ifname !== undefined) link.ifname = info.ifname;
    link.flags = info.flags;
    link.up = up;
    this.links.set(info.ifindex, link);
    if (!announce || up === wasUp) return;
    this.emit({ event: up ? "iface_up" : "iface_down", time, ifindex: info.ifindex, ifname: link.ifname });
  }

  private applyAddress(info: AddressMessageInfo, announce: boolean): void {
    const link = this.links.get(info.ifindex);
    const { deleted, ...address } = info;
    const known = link?.addresses.find((a) => a.address === address.address);
    if (!link) return;
    const time = Date.now();
    if (deleted) {
      if (!known) return;
      link.addresses = link.addresses.filter((a) => a !== known);
      if (announce && !known.tentative) this.emitAddress("address_removed", link.ifname, known, time);
      return;
    }
    link.addresses = known ? link.addresses.map((a) => (a === known ? address : a)) : [...link.addresses, address];
    // An address is "added" when it becomes usable: IPv6 addresses after duplicate address detection.
    const becameUsable = !address.tentative && (known === undefined || known.tentative);
    if (announce && becameUsable) this.emitAddress("address_added", link.ifname, address, time);
  }
}
