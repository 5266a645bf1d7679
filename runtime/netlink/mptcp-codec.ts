// The mptcp_pm generic netlink family as pure functions: request payloads for
// every command, endpoint and limits replies, and the events of the
// mptcp_pm_events group. Attribute numbers and types follow
// Documentation/netlink/specs/mptcp_pm.yaml; the kernel reads the address
// set's `port` in host order (`ip mptcp` does the same) while event ports are
// big-endian.
import { familyName, familyNumber, formatIpv4, formatIpv6, parseAddress, type Family } from "./addresses.js";
import { AttrWriter, encodeGenlHeader, forEachAttr, NetlinkDecodeError, parseGenl, readUint, toHex } from "./codec.js";
import {
  MPTCP_ATTR,
  MPTCP_PM_ADDR_ATTR,
  MPTCP_PM_ADDR_FLAGS,
  MPTCP_PM_ATTR,
  MPTCP_PM_CMD,
  MPTCP_PM_EV_FLAG_DENY_JOIN_ID0,
  MPTCP_PM_EV_FLAG_SERVER_SIDE,
  MPTCP_PM_VER,
  NLA_TYPE_MASK,
  type EndpointFlagName,
} from "./constants.js";
import { MPTCP_EVENT_NAMES, type PolicyEvent } from "./policy-event.js";

/** An address as the path manager takes it (the "address" attribute set). */
export interface AddressSpec {
  readonly address?: string;
  /** Needed only without `address`. */
  readonly family?: Family;
  readonly id?: number;
  readonly port?: number;
  readonly flags?: readonly EndpointFlagName[] | number;
  readonly ifindex?: number;
}

/** An endpoint of the in-kernel path manager (GET_ADDR). */
export interface Endpoint {
  readonly id: number;
  readonly family: Family;
  readonly address: string;
  readonly port?: number;
  readonly flags: readonly EndpointFlagName[];
  /** Flag bits this version has no name for. */
  readonly unknownFlags?: number;
  readonly ifindex?: number;
}

export interface Limits {
  readonly subflows: number;
  readonly add_addr_accepted: number;
}

export function flagsToBits(flags: readonly EndpointFlagName[] | number | undefined): number {
  if (flags === undefined) return 0;
  if (typeof flags === "number") return flags;
  let bits = 0;
  for (const name of flags) {
    const flag = MPTCP_PM_ADDR_FLAGS.find((f) => f.name === name);
    if (!flag) throw new Error(`unknown endpoint flag '${name}' (known: ${MPTCP_PM_ADDR_FLAGS.map((f) => f.name).join(", ")})`);
    bits |= flag.bit;
  }
  return bits;
}

export function bitsToFlags(bits: number): { flags: EndpointFlagName[]; unknown: number } {
  const flags: EndpointFlagName[] = [];
  let rest = bits;
  for (const flag of MPTCP_PM_ADDR_FLAGS) {
    if (bits & flag.bit) flags.push(flag.name);
    rest &= ~flag.bit;
  }
  return { flags, unknown: rest };
}

function writeAddress(writer: AttrWriter, type: number, spec: AddressSpec): void {
  writer.begin(type);
  const parsed = spec.address !== undefined ? parseAddress(spec.address) : undefined;
  const family = parsed?.family ?? spec.family;
  if (family !== undefined) writer.u16(MPTCP_PM_ADDR_ATTR.FAMILY, familyNumber(family));
  if (spec.id !== undefined) writer.u8(MPTCP_PM_ADDR_ATTR.ID, spec.id);
  if (parsed) writer.bytes(parsed.family === "ipv4" ? MPTCP_PM_ADDR_ATTR.ADDR4 : MPTCP_PM_ADDR_ATTR.ADDR6, parsed.bytes);
  if (spec.port !== undefined) writer.u16(MPTCP_PM_ADDR_ATTR.PORT, spec.port);
  const flags = flagsToBits(spec.flags);
  if (flags !== 0) writer.u32(MPTCP_PM_ADDR_ATTR.FLAGS, flags);
  if (spec.ifindex !== undefined) writer.s32(MPTCP_PM_ADDR_ATTR.IF_IDX, spec.ifindex);
  writer.end();
}

function payload(cmd: number, build?: (writer: AttrWriter) => void): Buffer {
  if (!build) return encodeGenlHeader(cmd, MPTCP_PM_VER);
  const writer = new AttrWriter();
  build(writer);
  return Buffer.concat([encodeGenlHeader(cmd, MPTCP_PM_VER), writer.finish()]);
}

/** Tokens are u32; text is hex as `ip mptcp monitor` prints it. */
export function tokenNumber(token: string | number): number {
  if (typeof token === "number") {
    if (!Number.isInteger(token) || token < 0 || token > 0xffffffff) throw new Error(`token ${token} is not a 32-bit number`);
    return token;
  }
  if (!/^(0x)?[0-9a-f]{1,8}$/i.test(token)) throw new Error(`token '${token}' is not up to 8 hex digits`);
  return parseInt(token.replace(/^0x/i, ""), 16);
}

export function tokenText(token: number): string {
  return (token >>> 0).toString(16).padStart(8, "0");
}

/** Request payloads (genl header + attributes), one per command. */
export const encode = {
  addAddr: (endpoint: AddressSpec) => payload(MPTCP_PM_CMD.ADD_ADDR, (w) => writeAddress(w, MPTCP_PM_ATTR.ADDR, endpoint)),
  delAddr: (endpoint: AddressSpec) => payload(MPTCP_PM_CMD.DEL_ADDR, (w) => writeAddress(w, MPTCP_PM_ATTR.ADDR, endpoint)),
  getAddr: (id: number) => payload(MPTCP_PM_CMD.GET_ADDR, (w) => writeAddress(w, MPTCP_PM_ATTR.ADDR, { id })),
  dumpAddrs: () => payload(MPTCP_PM_CMD.GET_ADDR),
  /** GET_ADDR dump of one connection's local addresses (userspace PM, kernel 6.14+). */
  dumpAddrsOf: (token: number) => payload(MPTCP_PM_CMD.GET_ADDR, (w) => w.u32(MPTCP_PM_ATTR.TOKEN, token)),
  flushAddrs: () => payload(MPTCP_PM_CMD.FLUSH_ADDRS),
  setLimits: (limits: Partial<Limits>) =>
    payload(MPTCP_PM_CMD.SET_LIMITS, (w) => {
      if (limits.add_addr_accepted !== undefined) w.u32(MPTCP_PM_ATTR.RCV_ADD_ADDRS, limits.add_addr_accepted);
      if (limits.subflows !== undefined) w.u32(MPTCP_PM_ATTR.SUBFLOWS, limits.subflows);
    }),
  getLimits: () => payload(MPTCP_PM_CMD.GET_LIMITS),
  /** In-kernel PM: change an endpoint's flags (by id or address); userspace PM: MP_PRIO on a subflow by token. */
  setFlags: (local: AddressSpec, token?: number, remote?: AddressSpec) =>
    payload(MPTCP_PM_CMD.SET_FLAGS, (w) => {
      writeAddress(w, MPTCP_PM_ATTR.ADDR, local);
      if (token !== undefined) w.u32(MPTCP_PM_ATTR.TOKEN, token);
      if (remote) writeAddress(w, MPTCP_PM_ATTR.ADDR_REMOTE, remote);
    }),
  announce: (token: number, local: AddressSpec) =>
    payload(MPTCP_PM_CMD.ANNOUNCE, (w) => {
      writeAddress(w, MPTCP_PM_ATTR.ADDR, local);
      w.u32(MPTCP_PM_ATTR.TOKEN, token);
    }),
  remove: (token: number, localId: number) =>
    payload(MPTCP_PM_CMD.REMOVE, (w) => {
      w.u32(MPTCP_PM_ATTR.TOKEN, token);
      w.u8(MPTCP_PM_ATTR.LOC_ID, localId);
    }),
  subflowCreate: (token: number, local: AddressSpec, remote: AddressSpec) =>
    payload(MPTCP_PM_CMD.SUBFLOW_CREATE, (w) => {
      writeAddress(w, MPTCP_PM_ATTR.ADDR, local);
      w.u32(MPTCP_PM_ATTR.TOKEN, token);
      writeAddress(w, MPTCP_PM_ATTR.ADDR_REMOTE, remote);
    }),
  subflowDestroy: (token: number, local: AddressSpec, remote: AddressSpec) =>
    payload(MPTCP_PM_CMD.SUBFLOW_DESTROY, (w) => {
      writeAddress(w, MPTCP_PM_ATTR.ADDR, local);
      w.u32(MPTCP_PM_ATTR.TOKEN, token);
      writeAddress(w, MPTCP_PM_ATTR.ADDR_REMOTE, remote);
    }),
};

const PM_ATTR_NAMES: Readonly<Record<number, string>> = { 1: "addr", 2: "rcv_add_addrs", 3: "subflows", 4: "token", 5: "loc_id", 6: "addr_remote" };
const ADDR_ATTR_NAMES: Readonly<Record<number, string>> = { 1: "family", 2: "id", 3: "addr4", 4: "addr6", 5: "port", 6: "flags", 7: "if_idx" };

/** Spec names for an attribute path of a request: [1, 1] -> "addr.family". */
export function pmAttrName(path: readonly number[]): string | undefined {
  const [first, second] = path;
  if (first === undefined) return undefined;
  const head = PM_ATTR_NAMES[first] ?? String(first);
  if (second === undefined) return head;
  return `${head}.${ADDR_ATTR_NAMES[second] ?? String(second)}`;
}

/** Decode an address nest (GET_ADDR replies). */
export function decodeEndpoint(nest: Buffer): Endpoint {
  let family: Family | undefined;
  let address: string | undefined;
  let id = 0;
  let port: number | undefined;
  let bits = 0;
  let ifindex: number | undefined;
  forEachAttr(nest, (type, data) => {
    switch (type) {
      case MPTCP_PM_ADDR_ATTR.FAMILY:
        family = familyName(readUint(data) ?? 0);
        break;
      case MPTCP_PM_ADDR_ATTR.ID:
        id = readUint(data) ?? 0;
        break;
      case MPTCP_PM_ADDR_ATTR.ADDR4:
        if (data.length === 4) address = formatIpv4(data);
        break;
      case MPTCP_PM_ADDR_ATTR.ADDR6:
        if (data.length === 16) address = formatIpv6(data);
        break;
      case MPTCP_PM_ADDR_ATTR.PORT:
        port = readUint(data);
        break;
      case MPTCP_PM_ADDR_ATTR.FLAGS:
        bits = readUint(data) ?? 0;
        break;
      case MPTCP_PM_ADDR_ATTR.IF_IDX:
        if (data.length === 4) ifindex = data.readInt32LE(0);
        break;
    }
  });
  const { flags, unknown } = bitsToFlags(bits);
  return {
    id,
    family: family ?? (address?.includes(":") ? "ipv6" : "ipv4"),
    address: address ?? "",
    ...(port ? { port } : {}),
    flags,
    ...(unknown ? { unknownFlags: unknown } : {}),
    ...(ifindex ? { ifindex } : {}),
  };
}

/** GET_ADDR reply (one endpoint per message). */
export function decodeEndpointReply(genlPayload: Buffer): Endpoint | undefined {
  let endpoint: Endpoint | undefined;
  forEachAttr(parseGenl(genlPayload).attrs, (type, data) => {
    if (type === MPTCP_PM_ATTR.ADDR) endpoint = decodeEndpoint(data);
  });
  return endpoint;
}

export function decodeLimits(genlPayload: Buffer): Limits {
  let subflows = 0;
  let accepted = 0;
  forEachAttr(parseGenl(genlPayload).attrs, (type, data) => {
    if (type === MPTCP_PM_ATTR.SUBFLOWS) subflows = readUint(data) ?? 0;
    else if (type === MPTCP_PM_ATTR.RCV_ADD_ADDRS) accepted = readUint(data) ?? 0;
  });
  return { subflows, add_addr_accepted: accepted };
}

type MutableEvent = { -readonly [K in keyof PolicyEvent]: PolicyEvent[K] };

/**
 * Decode one message of the mptcp_pm_events group (a generic netlink payload:
 * genl header and attributes) into a PolicyEvent without `time` or `ifname`.
 * Attributes with an unexpected size, and unknown ones, go to `raw`.
 *
 * The daemon's hot path: every event of every connection comes through here, so the
 * attributes are read in place (no Buffer view, no closure per attribute) and the
 * address strings are shared between events (see internIpv4).
 */
export function decodeMptcpEvent(genlPayload: Buffer): PolicyEvent {
  const cmd = genlPayload[0] ?? 0;
  const name = MPTCP_EVENT_NAMES.get(cmd);
  const event: MutableEvent = name ? { event: name } : { event: "unknown", cmd };
  let raw: Record<string, string> | undefined;
  let evFlags = 0;
  const end = genlPayload.length;
  let offset = 4;
  while (offset + 4 <= end) {
    const length = genlPayload.readUInt16LE(offset);
    const type = genlPayload.readUInt16LE(offset + 2) & NLA_TYPE_MASK;
    if (length < 4 || offset + length > end) throw new NetlinkDecodeError(`bad attribute length ${length} at offset ${offset - 4} of ${end - 4}`);
    const at = offset + 4;
    const n = length - 4;
    offset += (length + 3) & ~3;
    let known = true;
    switch (type) {
      case MPTCP_ATTR.TOKEN:
        if (n === 4) event.token = tokenText(genlPayload.readUInt32LE(at));
        else known = false;
        break;
      case MPTCP_ATTR.FAMILY: {
        const family = n === 2 ? familyName(genlPayload.readUInt16LE(at)) : undefined;
        if (family) event.family = family;
        else known = false;
        break;
      }
      case MPTCP_ATTR.LOC_ID:
        if (n === 1) event.locid = genlPayload[at];
        else known = false;
        break;
      case MPTCP_ATTR.REM_ID:
        if (n === 1) event.remid = genlPayload[at];
        else known = false;
        break;
      case MPTCP_ATTR.SADDR4:
        if (n === 4) event.saddr = internIpv4(genlPayload.readUInt32BE(at));
        else known = false;
        break;
      case MPTCP_ATTR.SADDR6:
        if (n >= 16) event.saddr = formatIpv6(genlPayload, at);
        else known = false;
        break;
      case MPTCP_ATTR.DADDR4:
        if (n === 4) event.daddr = internIpv4(genlPayload.readUInt32BE(at));
        else known = false;
        break;
      case MPTCP_ATTR.DADDR6:
        if (n >= 16) event.daddr = formatIpv6(genlPayload, at);
        else known = false;
        break;
      case MPTCP_ATTR.SPORT:
        if (n === 2) event.sport = genlPayload.readUInt16BE(at);
        else known = false;
        break;
      case MPTCP_ATTR.DPORT:
        if (n === 2) event.dport = genlPayload.readUInt16BE(at);
        else known = false;
        break;
      case MPTCP_ATTR.BACKUP:
        if (n === 1) event.backup = genlPayload[at] !== 0;
        else known = false;
        break;
      case MPTCP_ATTR.ERROR:
        if (n >= 1) event.error = readUint(genlPayload.subarray(at, at + n)) ?? genlPayload[at];
        else known = false;
        break;
      case MPTCP_ATTR.FLAGS:
        if (n === 2) evFlags = event.flags = genlPayload.readUInt16LE(at);
        else known = false;
        break;
      case MPTCP_ATTR.TIMEOUT:
        if (n === 4) event.timeout = genlPayload.readUInt32LE(at);
        else known = false;
        break;
      case MPTCP_ATTR.IF_IDX:
        if (n === 4) event.ifindex = genlPayload.readInt32LE(at);
        else known = false;
        break;
      case MPTCP_ATTR.RESET_REASON:
        if (n === 4) event.reset_reason = genlPayload.readUInt32LE(at);
        else known = false;
        break;
      case MPTCP_ATTR.RESET_FLAGS:
        if (n === 4) event.reset_flags = genlPayload.readUInt32LE(at);
        else known = false;
        break;
      case MPTCP_ATTR.SERVER_SIDE:
        if (n === 1) event.server_side = genlPayload[at] !== 0;
        else known = false;
        break;
      default:
        known = false;
    }
    if (!known) {
      raw ??= {};
      raw[String(type)] = toHex(genlPayload.subarray(at, at + n));
    }
  }
  if (evFlags & MPTCP_PM_EV_FLAG_SERVER_SIDE) event.server_side = true;
  if (evFlags & MPTCP_PM_EV_FLAG_DENY_JOIN_ID0) event.deny_join_id0 = true;
  if ((cmd === 1 || cmd === 2) && event.server_side === undefined) event.server_side = false;
  if (raw) event.raw = raw;
  return event;
}

/**
 * IPv4 text by address, shared: a busy server sees the same few local and many
 * remote addresses in every event, and the connection table keeps them per
 * connection and subflow. Bounded: emptied when it holds INTERNED_MAX addresses.
 */
const interned = new Map<number, string>();
const INTERNED_MAX = 4096;
function internIpv4(address: number): string {
  let text = interned.get(address);
  if (text === undefined) {
    if (interned.size >= INTERNED_MAX) interned.clear();
    text = `${address >>> 24}.${(address >>> 16) & 255}.${(address >>> 8) & 255}.${address & 255}`;
    interned.set(address, text);
  }
  return text;
}
