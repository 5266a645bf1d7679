// The one event format of mptcp-policy: what `monitor --format json` prints, one
// object per line, and what the decision core reads back (`simulate --events`).
// Plain JSON values only, so a recorded session replays as is. The fields the
// decision core reads are compiler/events.ts's; this adds what only the runtime has.
import type { PolicyEvent as CorePolicyEvent } from "../../compiler/events.js";

/** The language's event names (language/vocabulary.ts EVENTS), plus what the runtime adds. */
export type PolicyEventName =
  | "created"
  | "established"
  | "closed"
  | "announced"
  | "removed"
  | "subflow_established"
  | "subflow_closed"
  | "subflow_priority"
  | "subflow_stale"
  | "subflow_recovered"
  | "listener_created"
  | "listener_closed"
  | "iface_up"
  | "iface_down"
  | "address_added"
  | "address_removed";

/**
 * One event. MPTCP events carry the attributes the kernel sent, named as in the
 * kernel's netlink spec (Documentation/netlink/specs/mptcp_pm.yaml) in snake_case,
 * with these choices (the same as `ip mptcp monitor`):
 *
 * - `saddr`/`daddr` merge `saddr4|saddr6` and `daddr4|daddr6` (text, as inet_ntop);
 *   `family` says which ("ipv4" or "ipv6").
 * - `locid`/`remid` are `loc_id`/`rem_id`; `ifindex` is `if_idx`, with `ifname`
 *   added when the interface is known.
 * - `token` is 8 lowercase hex digits of the kernel's u32 (`ip mptcp monitor`'s
 *   `token=%08x`; `ss -M` prints the same number without leading zeros).
 * - `backup`, `server_side`, `deny_join_id0` are booleans; `server_side` is always
 *   present on created/established (false when the kernel did not say server side).
 * - `flags` is the raw MPTCP_ATTR_FLAGS (u16) when sent; `error` is the subflow's
 *   errno (e.g. 111 for ECONNREFUSED), `reset_reason`/`reset_flags` the MP_RST fields.
 * - Attributes this version does not know are kept in `raw`, by number, as hex.
 *
 * Interface events (rtnetlink) carry `ifindex`, `ifname`, and for addresses
 * `family`, `address` and `prefixlen`.
 *
 * Two more events exist only at run time: `overflow` (the kernel dropped events
 * because the receive buffer was full: re-read the state) with `source`, and
 * `unknown` for an MPTCP event type this version does not know, with `cmd`.
 * Readers skip event names they do not know.
 */
export interface PolicyEvent extends CorePolicyEvent {
  readonly event: PolicyEventName | "overflow" | "unknown";
  readonly flags?: number;
  readonly timeout?: number;
  readonly reset_reason?: number;
  readonly reset_flags?: number;
  readonly deny_join_id0?: boolean;
  /** address_added / address_removed: the prefix length of `address`. */
  readonly prefixlen?: number;
  /** overflow: which event source lost messages. */
  readonly source?: "mptcp" | "rtnetlink";
  /** unknown: the kernel's event number. */
  readonly cmd?: number;
  /** Attributes unknown to this version: attribute number -> payload as hex. */
  readonly raw?: Readonly<Record<string, string>>;
}

/** MPTCP event names by the kernel's number (enum mptcp_event_type). */
export const MPTCP_EVENT_NAMES: ReadonlyMap<number, PolicyEventName> = new Map<number, PolicyEventName>([
  [1, "created"],
  [2, "established"],
  [3, "closed"],
  [6, "announced"],
  [7, "removed"],
  [10, "subflow_established"],
  [11, "subflow_closed"],
  [13, "subflow_priority"],
  [15, "listener_created"],
  [16, "listener_closed"],
]);

/** Key order of the JSON output: the event first, then identity, then details. */
export const EVENT_KEY_ORDER: readonly (keyof PolicyEvent)[] = [
  "event",
  "time",
  "token",
  "family",
  "saddr",
  "daddr",
  "sport",
  "dport",
  "locid",
  "remid",
  "backup",
  "error",
  "flags",
  "timeout",
  "reset_reason",
  "reset_flags",
  "server_side",
  "deny_join_id0",
  "ifindex",
  "ifname",
  "address",
  "prefixlen",
  "source",
  "cmd",
  "raw",
];
