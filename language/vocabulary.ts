// The one vocabulary table of the language. The lexer's keywords, the checker's
// "did you mean" suggestions, the playground's completion, hover and highlighting
// all come from here, so a word is added in one place only.

/** What an event is about, which decides the conditions it can carry. */
export type EventSubject = "connection" | "subflow" | "announcement" | "listener" | "interface" | "address";

/** Condition keys; the checker matches them against what an event carries. */
export type ConditionKey =
  | "iface"
  | "local"
  | "remote"
  | "local_port"
  | "remote_port"
  | "family"
  | "side"
  | "backup"
  | "active"
  | "stale"
  | "error"
  | "subflows"
  | "metric"
  | "program"
  | "unit"
  | "cgroup"
  | "user";

/**
 * Where an event comes from: the kernel's MPTCP generic Netlink family, rtnetlink, or
 * the daemon itself, which notices what the kernel sends no event for (it samples the
 * subflows through sock_diag). Only the first two are kernel events: `monitor` shows
 * those, and a recorded session holds none of the daemon's.
 */
export type EventSource = "mptcp" | "rtnetlink" | "daemon";

export interface EventInfo {
  readonly name: string;
  readonly source: EventSource;
  readonly subject: EventSubject;
  /** Conditions this event can be tested on (from the event itself or the connection state). */
  readonly conditions: readonly ConditionKey[];
  /** Whether the event names an interface directly after it (`on iface_down wifi`). */
  readonly takesInterface: boolean;
  /** Whether a connection is known when the event fires (per-connection actions make sense). */
  readonly hasConnection: boolean;
  readonly doc: string;
}

const connectionFacts: ConditionKey[] = ["local", "remote", "local_port", "remote_port", "family", "side", "subflows"];
const subflowFacts: ConditionKey[] = ["iface", "backup", ...connectionFacts];

export const EVENTS: readonly EventInfo[] = [
  { name: "created", source: "mptcp", subject: "connection", conditions: subflowFacts, takesInterface: false, hasConnection: true, doc: "A new MPTCP connection was created (its first subflow is not yet fully established)." },
  { name: "established", source: "mptcp", subject: "connection", conditions: subflowFacts, takesInterface: false, hasConnection: true, doc: "An MPTCP connection is fully established and can open more subflows." },
  { name: "closed", source: "mptcp", subject: "connection", conditions: connectionFacts, takesInterface: false, hasConnection: true, doc: "An MPTCP connection was closed." },
  { name: "announced", source: "mptcp", subject: "announcement", conditions: ["remote", "remote_port", "family", "side", "subflows", "local", "local_port"], takesInterface: false, hasConnection: true, doc: "The peer announced an address (ADD_ADDR); `remote` is the announced address." },
  { name: "removed", source: "mptcp", subject: "announcement", conditions: ["remote", "family", "side", "subflows"], takesInterface: false, hasConnection: true, doc: "The peer withdrew an announced address (RM_ADDR)." },
  { name: "subflow_established", source: "mptcp", subject: "subflow", conditions: subflowFacts, takesInterface: false, hasConnection: true, doc: "A subflow of a connection is established." },
  { name: "subflow_closed", source: "mptcp", subject: "subflow", conditions: [...subflowFacts, "error"], takesInterface: false, hasConnection: true, doc: "A subflow was closed or failed to open; `error` tells why." },
  { name: "subflow_priority", source: "mptcp", subject: "subflow", conditions: subflowFacts, takesInterface: false, hasConnection: true, doc: "A subflow's backup flag changed (MP_PRIO)." },
  { name: "subflow_stale", source: "daemon", subject: "subflow", conditions: subflowFacts, takesInterface: false, hasConnection: true, doc: "A subflow stopped making progress: data is outstanding and nothing was acknowledged for longer than its round-trip time allows (a blackholed path). The kernel sends no event for this: the daemon notices it by sampling the subflows." },
  { name: "subflow_recovered", source: "daemon", subject: "subflow", conditions: subflowFacts, takesInterface: false, hasConnection: true, doc: "A stale subflow makes progress again (noticed by the daemon, as `subflow_stale`)." },
  { name: "listener_created", source: "mptcp", subject: "listener", conditions: ["local", "local_port", "family"], takesInterface: false, hasConnection: false, doc: "An MPTCP listening socket was created." },
  { name: "listener_closed", source: "mptcp", subject: "listener", conditions: ["local", "local_port", "family"], takesInterface: false, hasConnection: false, doc: "An MPTCP listening socket was closed." },
  { name: "iface_up", source: "rtnetlink", subject: "interface", conditions: ["iface"], takesInterface: true, hasConnection: false, doc: "A network interface came up; optionally name it: `on iface_up wifi`." },
  { name: "iface_down", source: "rtnetlink", subject: "interface", conditions: ["iface"], takesInterface: true, hasConnection: false, doc: "A network interface went down; optionally name it: `on iface_down wifi`." },
  { name: "address_added", source: "rtnetlink", subject: "address", conditions: ["iface", "local", "family"], takesInterface: true, hasConnection: false, doc: "An address was added to an interface." },
  { name: "address_removed", source: "rtnetlink", subject: "address", conditions: ["iface", "local", "family"], takesInterface: true, hasConnection: false, doc: "An address was removed from an interface." },
];

export const EVENT_BY_NAME: ReadonlyMap<string, EventInfo> = new Map(EVENTS.map((e) => [e.name, e]));

/** Endpoint flags, in the kernel's bit order (linux/mptcp.h MPTCP_PM_ADDR_FLAG_*). */
export const ENDPOINT_FLAGS = [
  { name: "signal", bit: 1 << 0, doc: "Announce this address to peers (ADD_ADDR)." },
  { name: "subflow", bit: 1 << 1, doc: "Open subflows from this address." },
  { name: "backup", bit: 1 << 2, doc: "Subflows from this address are backups: used only when no other subflow is available." },
  { name: "fullmesh", bit: 1 << 3, doc: "Open a subflow from this address to every known peer address." },
  { name: "laminar", bit: 1 << 5, doc: "Open subflows to peer addresses of the same family, one per announced address (kernel 6.18+)." },
] as const;
export type EndpointFlag = (typeof ENDPOINT_FLAGS)[number]["name"];

export type Dimension = "time" | "bytes" | "rate" | "count";

/** Units: factor converts to the base unit (µs, bytes, bytes per second). */
export const UNITS = [
  { name: "us", dimension: "time", factor: 1, doc: "microseconds" },
  { name: "ms", dimension: "time", factor: 1_000, doc: "milliseconds" },
  { name: "s", dimension: "time", factor: 1_000_000, doc: "seconds" },
  { name: "B", dimension: "bytes", factor: 1, doc: "bytes" },
  { name: "KB", dimension: "bytes", factor: 1024, doc: "kibibytes (1024 bytes)" },
  { name: "MB", dimension: "bytes", factor: 1024 * 1024, doc: "mebibytes (1048576 bytes)" },
  { name: "kbit", dimension: "rate", factor: 1_000 / 8, doc: "kilobits per second" },
  { name: "mbit", dimension: "rate", factor: 1_000_000 / 8, doc: "megabits per second" },
  { name: "gbit", dimension: "rate", factor: 1_000_000_000 / 8, doc: "gigabits per second" },
] as const satisfies readonly { name: string; dimension: Dimension; factor: number; doc: string }[];

export const UNIT_BY_NAME: ReadonlyMap<string, (typeof UNITS)[number]> = new Map(UNITS.map((u) => [u.name, u]));

/** Subflow metrics a scheduler can compare and order by; `base` names the stored unit. */
export const METRICS = [
  { name: "rtt", dimension: "time", doc: "Smoothed round-trip time of the subflow (kernel srtt, µs)." },
  { name: "rtt_var", dimension: "time", doc: "Round-trip time variation (kernel mdev, µs)." },
  { name: "cwnd", dimension: "count", doc: "Congestion window, in packets." },
  { name: "inflight", dimension: "count", doc: "Packets sent and not yet acknowledged." },
  { name: "queued", dimension: "bytes", doc: "Bytes written to the subflow and not yet acknowledged." },
  { name: "pacing", dimension: "rate", doc: "Pacing rate (the kernel keeps bytes per second)." },
  { name: "lost", dimension: "count", doc: "Packets the subflow considers lost." },
  { name: "retrans", dimension: "count", doc: "Packets retransmitted and not yet acknowledged." },
] as const satisfies readonly { name: string; dimension: Dimension; doc: string }[];
export type MetricName = (typeof METRICS)[number]["name"];
export const METRIC_BY_NAME: ReadonlyMap<string, (typeof METRICS)[number]> = new Map(METRICS.map((m) => [m.name, m]));

/** Errno names usable in `error NAME`; values are Linux's (asm-generic/errno.h). */
export const ERRNO_NAMES: ReadonlyMap<string, number> = new Map([
  ["timeout", 110],
  ["reset", 104],
  ["refused", 111],
  ["unreachable", 113],
  ["net_unreachable", 101],
  ["net_down", 100],
  ["aborted", 103],
  ["pipe", 32],
  ["proto", 71],
  ["no_route", 113],
  ["etimedout", 110],
  ["econnreset", 104],
  ["econnrefused", 111],
  ["ehostunreach", 113],
  ["enetunreach", 101],
  ["enetdown", 100],
  ["econnaborted", 103],
  ["epipe", 32],
  ["eproto", 71],
]);

/** Comparison operators, shared by `subflows` and metrics. */
export const COMPARISONS = ["<", "<=", ">", ">=", "==", "!="] as const;
export type Comparison = (typeof COMPARISONS)[number];

/**
 * The largest limit any kernel takes (MPTCP_PM_ADDR_MAX: 8 up to Linux 6.x, 64 in 7.x).
 * Policies are checked against it; `run` applies the running kernel's own maximum
 * where that is lower, and warns (runtime/daemon/kernel-setup.ts).
 */
export const KERNEL_LIMIT_MAX = 64;
/** Kernel limits. */
export const LIMIT_NAMES = [
  { name: "subflows", max: KERNEL_LIMIT_MAX, doc: "Most extra subflows a connection may open or accept." },
  { name: "add_addr_accepted", max: KERNEL_LIMIT_MAX, doc: "Most peer ADD_ADDR announcements a connection accepts." },
] as const;
/** A connection's subflows: the first one and at most KERNEL_LIMIT_MAX more. */
export const SUBFLOW_COUNT_MAX = KERNEL_LIMIT_MAX + 1;

/** The kernel's scheduler name field is char[16]: 15 characters and the NUL. */
export const SCHEDULER_NAME_MAX = 15;
/** A task's comm (TASK_COMM_LEN is 16): `program` tests see at most 15 bytes. */
export const PROGRAM_NAME_MAX = 15;
/** Tests a `mptcp for` condition may use: what is known when socket() runs. */
export const SOCKET_CREATION_CONDITIONS: readonly ConditionKey[] = ["program", "unit", "cgroup", "user", "family"];
/** Interface names: IFNAMSIZ is 16, so 15 characters. */
export const IFNAME_MAX = 15;
/** The rule that keeps names safe to put into generated C and into the kernel. */
export const IDENTIFIER_PATTERN = /^[a-z_][a-z0-9_]*$/;
/** Deepest parenthesised condition accepted; deeper is a diagnostic, not a stack overflow. */
export const MAX_NESTING = 32;

/**
 * What a `redundant` step makes a kernel with the BPF scheduler hook do (the MPTCP
 * development tree, net/mptcp/protocol.c; docs/scheduler.md): new data goes out once,
 * the scheduled subflows taking the next pending data in turn (__mptcp_push_pending);
 * only a retransmission re-sends the same data, on every scheduled subflow
 * (__mptcp_retrans). The maintainers say redundant sending is not possible yet
 * (mptcp_net-next issues #436, #467). The one wording of it, for hover, `explain`,
 * the simulator and the fallback text.
 */
export const REDUNDANT_WITH_HOOK = "new data goes out once, spread over the matching subflows, and only retransmissions are sent on every match";

/** `create ... retry N`: N is from 1 to this (compiler/retries.ts does the backoff). */
export const RETRY_MAX = 10;

/** Every keyword with its one-line help, for hover and completion. */
export const KEYWORD_DOCS: Readonly<Record<string, string>> = {
  interface: "Declare an interface name for kernel interface names or glob patterns: `interface wifi = \"wlan0\"`.",
  limits: "Set the path manager's limits: `limits subflows 4 add_addr_accepted 2` (each at most 64; kernels before Linux 7 take at most 8).",
  endpoint: "Declare an in-kernel path-manager endpoint: `endpoint wifi subflow backup`.",
  on: "A path-manager rule: `on EVENT [if CONDITION] then ACTION, ...`.",
  if: "Introduce the condition of a rule.",
  then: "Introduce the actions of a rule.",
  scheduler: "A packet scheduler: `scheduler NAME [for CONDITION] { STEP ... }`.",
  for: "Which connections a scheduler serves (the first matching scheduler wins), or which programs `mptcp for` selects.",
  use: "Scheduler step: send on one matching subflow, `by lowest|highest METRIC` (default lowest rtt).",
  any: "`use any`: send on any available subflow.",
  redundant: `Scheduler step: every matching subflow; with the BPF scheduler hook, ${REDUNDANT_WITH_HOOK}.`,
  round_robin: "Scheduler step: take matching subflows in turn.",
  where: "Filter subflows in a scheduler step.",
  by: "Order subflows in a `use` step: `by lowest rtt`.",
  lowest: "Pick the subflow with the lowest value of the metric.",
  highest: "Pick the subflow with the highest value of the metric.",
  create: "Open a subflow: `create [via IFACE | from ADDR] [to ADDR|announced|remote] [port N] [backup] [after DELAY] [retry N]`.",
  destroy: "Close a subflow: `destroy [via IFACE]` (the event's subflow by default).",
  announce: "Announce an address to the peer: `announce IFACE|ADDR [port N]`.",
  withdraw: "Withdraw an announced address: `withdraw IFACE|ADDR`.",
  set: "Change the backup flag of subflows on an interface: `set IFACE backup|active`.",
  log: "Write a line to the daemon's log: `log \"text\"`.",
  after: "Delay an action: `after 2s`.",
  retry: `After \`create\`: when the subflow fails to open, try again up to N times (1-${RETRY_MAX}): \`create via lte after 2s retry 3\`. The waits double from the \`after\` delay (1 s without one), at most 60 s, with jitter; the subflow being established, or the connection closing, ends it.`,
  via: "The interface a new subflow leaves from.",
  from: "The local address a new subflow leaves from.",
  to: "The remote address of a new subflow: an address, `announced` or `remote`.",
  port: "A TCP port number (1-65535).",
  iface: "Condition on the interface: `iface wifi` or `iface in (wifi, lte)`.",
  local: "Condition on the local address or port: `local in 10.0.0.0/8`, `local port 22`.",
  remote: "Condition on the remote address or port: `remote in 192.0.2.0/24`, `remote port 443`.",
  in: "Membership: `iface in (a, b)`, `remote in PREFIX`.",
  family: "Condition on the address family: `family ipv4` or `family ipv6`.",
  side: "Condition on which side opened the connection: `side client` or `side server`.",
  backup: "The subflow is a backup (as a condition); mark as backup (as a flag).",
  active: "The subflow is not a backup (as a condition); clear the backup flag (in `set`).",
  error: "Condition on why a subflow closed: `error timeout`, `error reset`, or an errno number.",
  subflows: "The connection's number of subflows (as a condition); the subflow limit (in `limits`).",
  isolate: "Interfaces that never share a connection: `isolate vpn` or `isolate vpn, vpn2`. The listed interfaces form one zone, the interfaces no `isolate` names form the default zone, and a connection's subflows stay in the zone of its first subflow.",
  mptcp: "Make programs' TCP sockets MPTCP when they are created: `mptcp for program \"curl\"` (BPF, Linux 6.6+); several statements add up.",
  program: "Condition on the program creating a socket, its name as `ps -o comm` shows it (at most 15 bytes), globs allowed: `program \"curl\"`, `program \"python3*\"`. Only in `mptcp for`.",
  unit: "Condition on the systemd unit a socket is created in (its cgroup or below): `unit \"nginx.service\"`. Only in `mptcp for`.",
  cgroup: "Condition on the cgroup v2 a socket is created in, or below: `cgroup \"/system.slice/app.service\"`. Only in `mptcp for`.",
  user: "Condition on the user id creating a socket: `user 1000`. Only in `mptcp for`.",
  and: "Both conditions hold.",
  or: "Either condition holds.",
  not: "The condition does not hold.",
};

/** Every reserved word of the language. Event, metric, flag and unit names are not reserved. */
export const KEYWORDS: readonly string[] = Object.keys(KEYWORD_DOCS);

/** Words that are plain identifiers to the parser but have a meaning where they stand. */
export const FAMILIES = ["ipv4", "ipv6"] as const;
export const SIDES = ["client", "server"] as const;
export const SUBFLOW_FLAG_CONDITIONS = ["stale"] as const;

/** Help for every word users meet, reserved or not: hover text in the playground. */
export function wordHelp(word: string): string | undefined {
  const keyword = KEYWORD_DOCS[word];
  if (keyword !== undefined) return keyword;
  const event = EVENT_BY_NAME.get(word);
  if (event) return `Event \`${event.name}\`: ${event.doc}`;
  const metric = METRIC_BY_NAME.get(word);
  if (metric) return `Subflow metric \`${metric.name}\`: ${metric.doc}`;
  const flag = ENDPOINT_FLAGS.find((f) => f.name === word);
  if (flag) return `Endpoint flag \`${flag.name}\`: ${flag.doc}`;
  const unit = UNIT_BY_NAME.get(word);
  if (unit) return `Unit \`${unit.name}\`: ${unit.doc}`;
  const limit = LIMIT_NAMES.find((l) => l.name === word);
  if (limit) return `Limit \`${limit.name}\`: ${limit.doc}`;
  return OTHER_WORD_DOCS[word];
}

const OTHER_WORD_DOCS: Readonly<Record<string, string>> = {
  announced: "`to announced`: the address the peer just announced (only in `on announced` rules).",
  ipv4: "IPv4 address family.",
  ipv6: "IPv6 address family.",
  client: "`side client`: this host opened the connection.",
  server: "`side server`: the peer opened the connection.",
  stale: "`stale`: the subflow has stopped making progress (the kernel marks it stale).",
};
