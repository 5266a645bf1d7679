// The events socket's eBPF filter: what the classic filter (event-filter.ts) does, and
// it also follows the connections it drops. When a connection's `created` comes from
// an address no rule acts on, the filter drops it and puts its token in its map; every
// later event of that token (`closed` included, which carries no address) is dropped
// too, and `closed` takes the token out. A connection no rule acts on then costs the
// daemon no wakeup at all. As in the classic filter, whatever it cannot tell is kept:
// other message types, short messages, a first attribute that is not the token, an
// address not found within the first attributes. The map is an LRU hash made with
// the program: a token pushed out early costs only that connection's `closed`.
import { endianness } from "node:os";
import { EbpfProgram, HELPER } from "./ebpf-assembler.js";

/** enum mptcp_event_type. */
const EVENT_CREATED = 1;
const EVENT_CLOSED = 3;
/** MPTCP_ATTR_TOKEN, MPTCP_ATTR_SADDR4, MPTCP_ATTR_SADDR6 (uapi/linux/mptcp_pm.h). */
const ATTR_TOKEN = 1;
const ATTR_SADDR4 = 5;
const ATTR_SADDR6 = 6;
/** The attribute type without NLA_F_NESTED and NLA_F_NET_BYTEORDER. */
const NLA_TYPE_MASK = 0x3fff;
const NLMSG_TYPE_OFFSET = 4;
const GENL_CMD_OFFSET = 16;
const GENL_HEADER_END = 20;
/** The token's attribute: 4 bytes of header, 4 of value. */
const TOKEN_ATTRIBUTE_END = GENL_HEADER_END + 8;
/** Attributes looked at after the token for the source address (the second to fourth on every kernel seen). */
const ATTRIBUTES_WALKED = 8;
const MAX_DROPPED_COMMANDS = 200;
const MAX_ADDRESSES = 200;
/** Tokens the filter remembers at once (the map's entries: 80 bytes each in the kernel, 1.3 MB in all). */
export const IGNORED_CONNECTIONS = 16_384;

export interface TrackedSourceDrop {
  /** Commands whose message is dropped when its source address is one of these (`created` and `established`). */
  readonly commands: readonly number[];
  /** IPv4 addresses, 4 bytes each. */
  readonly ipv4: readonly Buffer[];
  /** IPv6 addresses, 16 bytes each. */
  readonly ipv6: readonly Buffer[];
}

// Stack slots (offsets from r10).
const HEADER = -24; // the 20 bytes of nlmsghdr + genlmsghdr
const TOKEN_ATTRIBUTE = -32; // nla_len, nla_type, the token
const KEY = -36; // the map key: the token
const ATTRIBUTE = -40; // the attribute header being walked
const VALUE = -44; // the map value (unused, 0)
const ADDRESS4 = -48;
const ADDRESS6 = -64;

/**
 * The program (struct bpf_insn entries, host order) for the netlink addon's
 * `attachBpfFilter`, with the map its `IGNORED_CONNECTIONS` entries. Registers:
 * r6 the context, r7 the message's length, r8 the command, r9 the walk's offset.
 */
export function trackingEventFilterProgram(familyId: number, droppedCommands: readonly number[], sources: TrackedSourceDrop): Buffer {
  if (!Number.isInteger(familyId) || familyId < 0 || familyId > 0xffff) throw new RangeError(`bad generic netlink family id ${familyId}`);
  const isCommand = (c: number) => Number.isInteger(c) && c >= 0 && c <= 0xff;
  const commands = [...new Set(droppedCommands)];
  if (commands.length > MAX_DROPPED_COMMANDS || !commands.every(isCommand)) throw new RangeError("bad command list for the event filter");
  if (
    !sources.commands.every(isCommand) ||
    sources.ipv4.length > MAX_ADDRESSES ||
    sources.ipv6.length > MAX_ADDRESSES ||
    sources.ipv4.some((a) => a.length !== 4) ||
    sources.ipv6.some((a) => a.length !== 16)
  )
    throw new RangeError("bad source address list for the event filter");
  const little = endianness() === "LE";
  const p = new EbpfProgram();
  /** r1..r4 for bpf_skb_load_bytes(skb, offset, stack + to, size); r0 < 0 when out of the message. */
  const loadBytes = (offset: number | "r9", to: number, size: number, plus = 0) => {
    p.mov(1, 6);
    if (offset === "r9") p.mov(2, 9).addImm(2, plus);
    else p.movImm(2, offset + plus);
    return p.mov(3, 10).addImm(3, to).movImm(4, size).call(HELPER.skbLoadBytes).jumpImm("jne", 0, 0, "keep");
  };
  const withKey = (helper: number) => p.loadMap(1).mov(2, 10).addImm(2, KEY).call(helper);

  p.mov(6, 1).load(4, 7, 6, 0); // __sk_buff.len
  p.jumpImm("jlt", 7, GENL_HEADER_END, "keep");
  loadBytes(0, HEADER, GENL_HEADER_END);
  p.load(2, 1, 10, HEADER + NLMSG_TYPE_OFFSET).jumpImm("jne", 1, familyId, "keep");
  p.load(1, 8, 10, HEADER + GENL_CMD_OFFSET);
  for (const command of commands) p.jumpImm("jeq", 8, command, "drop");
  // No address to drop: no token is ever remembered (and the verifier refuses unreachable code).
  if (sources.ipv4.length + sources.ipv6.length === 0) {
    p.label("keep").mov32Imm(0, -1).exit();
    p.label("drop").mov32Imm(0, 0).exit();
    return p.bytes();
  }
  // The token: the first attribute of every connection event.
  p.jumpImm("jlt", 7, TOKEN_ATTRIBUTE_END, "keep");
  loadBytes(GENL_HEADER_END, TOKEN_ATTRIBUTE, 8);
  p.load(2, 1, 10, TOKEN_ATTRIBUTE).jumpImm("jne", 1, 8, "keep");
  p.load(2, 1, 10, TOKEN_ATTRIBUTE + 2).andImm(1, NLA_TYPE_MASK).jumpImm("jne", 1, ATTR_TOKEN, "keep");
  p.load(4, 1, 10, TOKEN_ATTRIBUTE + 4).store(4, 10, KEY, 1);
  // A new connection's token is nobody's yet (an entry left by a `closed` never seen goes).
  p.jumpImm("jne", 8, EVENT_CREATED, "not-created");
  withKey(HELPER.mapDeleteElem).goto("walk");
  p.label("not-created");
  for (const command of sources.commands) p.jumpImm("jeq", 8, command, "walk");
  withKey(HELPER.mapLookupElem).jumpImm("jeq", 0, 0, "keep");
  p.jumpImm("jne", 8, EVENT_CLOSED, "drop");
  withKey(HELPER.mapDeleteElem).goto("drop");

  // Walk the attributes after the token for the source address (r9: the current one).
  p.label("walk").movImm(9, TOKEN_ATTRIBUTE_END);
  for (let i = 0; i < ATTRIBUTES_WALKED; i++) {
    loadBytes("r9", ATTRIBUTE, 4);
    p.load(2, 1, 10, ATTRIBUTE + 2).andImm(1, NLA_TYPE_MASK);
    p.jumpImm("jeq", 1, ATTR_SADDR4, "v4").jumpImm("jeq", 1, ATTR_SADDR6, "v6");
    // Next: r9 += (nla_len + 3) & ~3; a length under 4 ends the walk.
    p.load(2, 1, 10, ATTRIBUTE).jumpImm("jlt", 1, 4, "keep").addImm(1, 3).andImm(1, 0xfffc).add(9, 1);
  }
  p.goto("keep");

  p.label("v4");
  loadBytes("r9", ADDRESS4, 4, 4);
  p.load(4, 1, 10, ADDRESS4);
  for (const address of sources.ipv4) p.jump32Imm("jeq", 1, little ? address.readInt32LE(0) : address.readInt32BE(0), "ignore");
  p.goto("keep");

  p.label("v6");
  loadBytes("r9", ADDRESS6, 16, 4);
  p.load(8, 1, 10, ADDRESS6).load(8, 4, 10, ADDRESS6 + 8);
  sources.ipv6.forEach((address, i) => {
    const word = (at: number) => (little ? address.readBigUInt64LE(at) : address.readBigUInt64BE(at));
    p.loadImm64(2, word(0)).jumpReg("jne", 1, 2, `v6-${i + 1}`);
    p.loadImm64(3, word(8)).jumpReg("jne", 4, 3, `v6-${i + 1}`).goto("ignore");
    p.label(`v6-${i + 1}`);
  });
  p.goto("keep");

  // An address no rule acts on: the message goes, and for `created` the token is remembered.
  p.label("ignore").jumpImm("jne", 8, EVENT_CREATED, "drop");
  p.storeImm(4, 10, VALUE, 0);
  p.loadMap(1).mov(2, 10).addImm(2, KEY).mov(3, 10).addImm(3, VALUE).movImm(4, 0).call(HELPER.mapUpdateElem);
  p.goto("drop");

  p.label("keep").mov32Imm(0, -1).exit();
  p.label("drop").mov32Imm(0, 0).exit();
  return p.bytes();
}
