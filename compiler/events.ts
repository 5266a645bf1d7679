// The events the decision core reads: exactly the JSON objects `mptcp-policy monitor
// --format json` prints, one per line, so a recorded session replays as is. Field
// names are the snake_case attribute names of the kernel's mptcp_pm netlink spec.
import { EVENT_BY_NAME } from "../language/vocabulary.js";

export interface PolicyEvent {
  /** One of the language's event names. */
  readonly event: string;
  /** The connection token, 8 hex digits. */
  readonly token?: string;
  readonly family?: "ipv4" | "ipv6";
  readonly saddr?: string;
  readonly daddr?: string;
  readonly sport?: number;
  readonly dport?: number;
  readonly locid?: number;
  readonly remid?: number;
  /** Why a subflow closed: a positive errno. */
  readonly error?: number;
  readonly server_side?: boolean;
  readonly backup?: boolean;
  readonly ifindex?: number;
  readonly ifname?: string;
  /** The address of address_added / address_removed. */
  readonly address?: string;
  /** Milliseconds since the epoch when the event was seen, if recorded. */
  readonly time?: number;
}

/** Read one event object (from JSON), or say what is wrong with it. */
export function readEvent(value: unknown): PolicyEvent | string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not a JSON object";
  const record = value as Record<string, unknown>;
  const name = record["event"];
  if (typeof name !== "string") return "no \"event\" field";
  if (!EVENT_BY_NAME.has(name) && name !== "overflow" && name !== "unknown") return `unknown event '${name}'`;
  const out: Record<string, unknown> = { event: name };
  for (const key of STRING_FIELDS) if (typeof record[key] === "string") out[key] = record[key];
  for (const key of NUMBER_FIELDS) if (typeof record[key] === "number" && Number.isFinite(record[key])) out[key] = record[key];
  for (const key of FLAG_FIELDS) if (record[key] !== undefined) out[key] = record[key] === true || record[key] === 1;
  if (out["family"] !== undefined && out["family"] !== "ipv4" && out["family"] !== "ipv6") delete out["family"];
  return out as unknown as PolicyEvent;
}

const STRING_FIELDS = ["token", "family", "saddr", "daddr", "ifname", "address"] as const;
const NUMBER_FIELDS = ["sport", "dport", "locid", "remid", "error", "ifindex", "time"] as const;
const FLAG_FIELDS = ["server_side", "backup"] as const;
