// A scheduler's input: one connection and its subflows at the moment a packet is
// sent, as `simulate --subflows` reads it (one JSON object per line) and as the
// struct_ops wrapper fills it from the kernel. Values in the kernel's units: times in
// µs, `queued` in bytes, `pacing` in bytes per second. Pure and browser-safe.
import ipaddr from "ipaddr.js";
import { METRICS, type MetricName } from "../../language/vocabulary.js";

/** The decision core looks at no more subflows than this (MPTCP_SUBFLOWS_MAX). */
export const MAX_SUBFLOWS = 8;

export interface ConnectionSnapshot {
  readonly family: "ipv4" | "ipv6";
  readonly local: string;
  readonly remote: string;
  readonly localPort: number;
  readonly remotePort: number;
  /** Who opened the connection; not in the issue's example line, so optional there (default client). */
  readonly side: "client" | "server";
}

export interface SubflowSnapshot {
  /** The kernel interface name, matched against the policy's `interface` patterns. */
  readonly ifname: string;
  readonly metrics: Readonly<Record<MetricName, number>>;
  readonly stale: boolean;
  readonly backup: boolean;
  /** The kernel can send on it (mptcp_subflow_active): established and not closing. */
  readonly active: boolean;
  /** Its send buffer is full (the kernel's sk_stream_memory_free() says no): not usable. */
  readonly sndbufFull: boolean;
}

export interface Snapshot {
  readonly connection: ConnectionSnapshot;
  readonly subflows: readonly SubflowSnapshot[];
}

/** Metrics the kernel keeps in 32 bits; `pacing` is an unsigned long. */
export const METRIC_MAX: Readonly<Record<MetricName, number>> = {
  rtt: 0xffff_ffff,
  rtt_var: 0xffff_ffff,
  cwnd: 0xffff_ffff,
  inflight: 0xffff_ffff,
  queued: 0xffff_ffff,
  lost: 0xffff_ffff,
  retrans: 0xffff_ffff,
  pacing: Number.MAX_SAFE_INTEGER,
};

export class SnapshotError extends Error {
  override readonly name = "SnapshotError";
}

type Json = unknown;

/** Read one snapshot from parsed JSON; throws SnapshotError naming the bad field. */
export function parseSnapshot(json: Json): Snapshot {
  const root = object(json, "the line");
  const c = object(root["connection"], "connection");
  const family = oneOf(c["family"], ["ipv4", "ipv6"] as const, "connection.family");
  const local = address(c["local"], family, "connection.local");
  const remote = address(c["remote"], family, "connection.remote");
  const localPort = integer(c["local_port"], 0, 65535, "connection.local_port");
  const remotePort = integer(c["remote_port"], 0, 65535, "connection.remote_port");
  const side = c["side"] === undefined ? "client" : oneOf(c["side"], ["client", "server"] as const, "connection.side");
  const list = root["subflows"];
  if (!Array.isArray(list)) throw new SnapshotError("subflows: expected an array");
  if (list.length > MAX_SUBFLOWS) throw new SnapshotError(`subflows: at most ${MAX_SUBFLOWS} (the kernel's MPTCP_SUBFLOWS_MAX), found ${list.length}`);
  const subflows = list.map((item, i) => subflow(item, `subflows[${i}]`));
  return { connection: { family, local, remote, localPort, remotePort, side }, subflows };
}

function subflow(json: Json, where: string): SubflowSnapshot {
  const s = object(json, where);
  const ifname = s["ifname"];
  if (typeof ifname !== "string" || ifname.length === 0 || ifname.length > 15)
    throw new SnapshotError(`${where}.ifname: expected a kernel interface name (1 to 15 characters)`);
  const metrics = {} as Record<MetricName, number>;
  for (const m of METRICS) metrics[m.name] = integer(s[m.name], 0, METRIC_MAX[m.name], `${where}.${m.name}`);
  return {
    ifname,
    metrics,
    stale: flag(s["stale"], `${where}.stale`),
    backup: flag(s["backup"], `${where}.backup`),
    active: flag(s["active"], `${where}.active`),
    sndbufFull: s["sndbuf_full"] === undefined ? false : flag(s["sndbuf_full"], `${where}.sndbuf_full`),
  };
}

function object(json: Json, where: string): Record<string, Json> {
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new SnapshotError(`${where}: expected an object`);
  return json as Record<string, Json>;
}

function oneOf<T extends string>(json: Json, values: readonly T[], where: string): T {
  if (typeof json === "string" && (values as readonly string[]).includes(json)) return json as T;
  throw new SnapshotError(`${where}: expected ${values.map((v) => `"${v}"`).join(" or ")}`);
}

function integer(json: Json, min: number, max: number, where: string): number {
  if (typeof json !== "number" || !Number.isInteger(json) || json < min || json > max)
    throw new SnapshotError(`${where}: expected a whole number from ${min} to ${max}`);
  return json;
}

function flag(json: Json, where: string): boolean {
  if (typeof json !== "boolean") throw new SnapshotError(`${where}: expected true or false`);
  return json;
}

function address(json: Json, family: "ipv4" | "ipv6", where: string): string {
  const valid = typeof json === "string" && (family === "ipv4" ? ipaddr.IPv4.isValidFourPartDecimal(json) : ipaddr.IPv6.isValid(json));
  if (!valid) throw new SnapshotError(`${where}: expected an ${family === "ipv4" ? "IPv4" : "IPv6"} address (connection.family is ${family})`);
  return json as string;
}

/** The snapshot as `simulate --subflows` reads it: the inverse of parseSnapshot. */
export function snapshotToJson(snapshot: Snapshot): Record<string, unknown> {
  const c = snapshot.connection;
  return {
    connection: { family: c.family, local: c.local, remote: c.remote, local_port: c.localPort, remote_port: c.remotePort, side: c.side },
    subflows: snapshot.subflows.map((s) => ({
      ifname: s.ifname,
      ...s.metrics,
      stale: s.stale,
      backup: s.backup,
      active: s.active,
      ...(s.sndbufFull ? { sndbuf_full: true } : {}),
    })),
  };
}
