// The simulator's inputs as people write them: an event as `key=value` fields, ready
// scenarios built from the policy's own interfaces, and a default connection with
// subflows for the scheduler view. Pure: no DOM, no Monaco.
import { ERRNO_NAMES, EVENT_BY_NAME, EVENTS } from "../language/vocabulary.js";
import type { DeclaredNames } from "./protocol.js";

export type EventObject = Record<string, string | number | boolean>;

const NUMBER_FIELDS = new Set(["sport", "dport", "locid", "remid", "error", "ifindex"]);
const FLAG_FIELDS = new Set(["server_side", "backup"]);
const STRING_FIELDS = new Set(["token", "family", "saddr", "daddr", "ifname", "address"]);
export const EVENT_FIELDS: readonly string[] = [...STRING_FIELDS, ...NUMBER_FIELDS, ...FLAG_FIELDS];

/** `ifname=wlan0 dport=443 error=timeout` → fields; errno names become numbers. */
export function parseFields(text: string): { fields: EventObject } | { error: string } {
  const fields: EventObject = {};
  for (const part of text.trim().split(/\s+/).filter(Boolean)) {
    const eq = part.indexOf("=");
    if (eq <= 0) return { error: `'${part}': write fields as key=value` };
    const key = part.slice(0, eq);
    const value = part.slice(eq + 1);
    if (NUMBER_FIELDS.has(key)) {
      const errno = key === "error" ? ERRNO_NAMES.get(value) : undefined;
      const number = errno ?? Number(value);
      if (!Number.isInteger(number) || number < 0)
        return { error: `${key}: expected a whole number${key === "error" ? " or an errno name such as timeout" : ""}` };
      fields[key] = number;
    } else if (FLAG_FIELDS.has(key)) {
      if (value !== "true" && value !== "false") return { error: `${key}: expected true or false` };
      fields[key] = value === "true";
    } else if (STRING_FIELDS.has(key)) {
      fields[key] = value;
    } else {
      return { error: `unknown field '${key}' (known: ${EVENT_FIELDS.join(", ")})` };
    }
  }
  return { fields };
}

/** The inverse of parseFields, errno numbers shown by name when they have one. */
export function formatFields(event: EventObject): string {
  const names = new Map([...ERRNO_NAMES].reverse().map(([name, n]) => [n, name]));
  return Object.entries(event)
    .filter(([key]) => key !== "event")
    .map(([key, value]) => `${key}=${key === "error" && typeof value === "number" ? (names.get(value) ?? value) : value}`)
    .join(" ");
}

/** A kernel interface name that the declared interface's first pattern matches. */
export function exampleIfname(patterns: readonly string[]): string {
  const pattern = patterns[0] ?? "eth0";
  return pattern
    .replace(/\[!?(.)[^\]]*\]/g, "$1")
    .replace(/\*/g, "0")
    .replace(/\?/g, "0");
}

export interface Scenario {
  readonly id: string;
  readonly title: string;
  readonly events: readonly EventObject[];
}

const TOKEN = "7f6f626c";

/** Scenarios written with the policy's first two interfaces (A and B). */
export function scenarios(names: DeclaredNames): Scenario[] {
  const [first, second] = names.interfaces;
  const a = { name: first?.name ?? "eth0", ifname: exampleIfname(first?.patterns ?? ["eth0"]) };
  const b = { name: second?.name ?? a.name, ifname: second ? exampleIfname(second.patterns) : "eth1" };
  const conn = { token: TOKEN, family: "ipv4", saddr: "10.0.0.2", daddr: "203.0.113.80", sport: 43390, dport: 443 };
  const first_ = { ...conn, ifname: a.ifname, locid: 0, remid: 0 };
  const onB = { ...conn, saddr: "10.0.1.2", sport: 51000, ifname: b.ifname, locid: 1, remid: 0 };
  return [
    {
      id: "failover",
      title: `Connection on ${a.name}, ${a.name} goes down, its subflow times out`,
      events: [
        { event: "created", ...first_, server_side: false },
        { event: "established", ...first_, server_side: false },
        { event: "subflow_established", ...onB, backup: true },
        { event: "iface_down", ifname: a.ifname },
        { event: "subflow_closed", ...first_, error: 110 },
        { event: "iface_up", ifname: a.ifname },
        { event: "address_added", ifname: a.ifname, family: "ipv4", address: "10.0.0.2" },
        { event: "closed", token: TOKEN },
      ],
    },
    {
      id: "announce",
      title: "The server announces another address, then withdraws it",
      events: [
        { event: "established", ...first_, server_side: false },
        { event: "announced", token: TOKEN, family: "ipv4", remid: 1, daddr: "192.0.2.7", dport: 443 },
        { event: "subflow_established", ...conn, saddr: "10.0.0.2", sport: 51010, daddr: "192.0.2.7", ifname: a.ifname, locid: 0, remid: 1 },
        { event: "removed", token: TOKEN, remid: 1 },
        { event: "closed", token: TOKEN },
      ],
    },
    {
      id: "server",
      title: `A client connects to this host on ${a.name}`,
      events: [
        { event: "listener_created", family: "ipv4", saddr: "0.0.0.0", sport: 443 },
        { event: "created", ...first_, saddr: "198.51.100.10", sport: 443, daddr: "192.0.2.33", dport: 50123, server_side: true },
        { event: "established", ...first_, saddr: "198.51.100.10", sport: 443, daddr: "192.0.2.33", dport: 50123, server_side: true },
        { event: "subflow_closed", ...first_, saddr: "198.51.100.10", sport: 443, daddr: "192.0.2.33", dport: 50123, error: 104 },
        { event: "listener_closed", family: "ipv4", saddr: "0.0.0.0", sport: 443 },
      ],
    },
    {
      // subflow_stale and subflow_recovered come from the daemon's sampling, not the kernel.
      id: "stale",
      title: `${a.name} stalls (a blackhole): a subflow on ${b.name} fails twice, then opens; ${a.name} recovers`,
      events: [
        { event: "established", ...first_, server_side: false },
        { event: "subflow_stale", ...first_ },
        { event: "subflow_closed", ...onB, error: 110 },
        { event: "subflow_closed", ...onB, sport: 51001, error: 110 },
        { event: "subflow_established", ...onB, sport: 51002 },
        { event: "subflow_recovered", ...first_ },
        { event: "closed", token: TOKEN },
      ],
    },
    {
      id: "flap",
      title: `${b.name} flaps while a connection is open`,
      events: [
        { event: "established", ...first_, server_side: false },
        { event: "subflow_established", ...onB },
        { event: "iface_down", ifname: b.ifname },
        { event: "subflow_closed", ...onB, error: 101 },
        { event: "iface_up", ifname: b.ifname },
        { event: "address_added", ifname: b.ifname, family: "ipv4", address: "10.0.1.2" },
      ],
    },
  ];
}

/** Fields a new event of this kind starts with, taken from the connection used so far. */
export function templateFor(eventName: string, names: DeclaredNames): EventObject {
  const info = EVENT_BY_NAME.get(eventName) ?? EVENTS[0];
  const ifname = exampleIfname(names.interfaces[0]?.patterns ?? ["eth0"]);
  const conn = { token: TOKEN, family: "ipv4", saddr: "10.0.0.2", daddr: "203.0.113.80", sport: 43390, dport: 443 };
  switch (info?.subject) {
    case "connection":
    case "subflow":
      return eventName === "closed"
        ? { event: eventName, token: TOKEN }
        : { event: eventName, ...conn, ifname, ...(eventName === "subflow_closed" ? { error: 110 } : {}) };
    case "announcement":
      return { event: eventName, token: TOKEN, family: "ipv4", remid: 1, daddr: "192.0.2.7" };
    case "listener":
      return { event: eventName, family: "ipv4", saddr: "0.0.0.0", sport: 443 };
    case "address":
      return { event: eventName, ifname, family: "ipv4", address: "10.0.0.2" };
    default:
      return { event: eventName, ifname };
  }
}

export interface SubflowInput {
  ifname: string;
  active: boolean;
  backup: boolean;
  stale: boolean;
  /** In the units the form shows: ms for times, KB for queued, mbit/s for pacing. */
  rtt: number;
  rtt_var: number;
  cwnd: number;
  inflight: number;
  queued: number;
  pacing: number;
  lost: number;
  retrans: number;
}

export interface ScheduleInput {
  family: "ipv4" | "ipv6";
  local: string;
  remote: string;
  localPort: number;
  remotePort: number;
  side: "client" | "server";
  subflows: SubflowInput[];
}

export function defaultScheduleInput(names: DeclaredNames): ScheduleInput {
  const ifnames = names.interfaces.map((i) => exampleIfname(i.patterns));
  const subflow = (ifname: string, rtt: number, backup: boolean): SubflowInput => ({
    ifname,
    active: true,
    backup,
    stale: false,
    rtt,
    rtt_var: Math.round(rtt / 4),
    cwnd: 10,
    inflight: 2,
    queued: 4,
    pacing: 20,
    lost: 0,
    retrans: 0,
  });
  return {
    family: "ipv4",
    local: "10.0.0.2",
    remote: "203.0.113.80",
    localPort: 43390,
    remotePort: 443,
    side: "client",
    subflows: [subflow(ifnames[0] ?? "eth0", 24, false), subflow(ifnames[1] ?? "eth1", 60, ifnames.length > 1)],
  };
}

/** The form's values as the snapshot JSON `simulate --subflows` reads (kernel units). */
export function snapshotJson(input: ScheduleInput): unknown {
  return {
    connection: {
      family: input.family,
      local: input.local,
      remote: input.remote,
      local_port: input.localPort,
      remote_port: input.remotePort,
      side: input.side,
    },
    subflows: input.subflows.map((s) => ({
      ifname: s.ifname,
      active: s.active,
      backup: s.backup,
      stale: s.stale,
      rtt: Math.round(s.rtt * 1000),
      rtt_var: Math.round(s.rtt_var * 1000),
      cwnd: Math.round(s.cwnd),
      inflight: Math.round(s.inflight),
      queued: Math.round(s.queued * 1024),
      pacing: Math.round((s.pacing * 1_000_000) / 8),
      lost: Math.round(s.lost),
      retrans: Math.round(s.retrans),
    })),
  };
}
