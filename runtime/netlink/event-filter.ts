// A classic BPF socket filter for a generic netlink events socket: messages of the
// family whose command is in a drop list are discarded by the kernel before they are
// queued (netlink_broadcast runs the listener's filter), so they cost the reader no
// wakeup, no decode and no room in the receive buffer. Optionally, connection events
// (given commands) whose source address (MPTCP_ATTR_SADDR4/6) is in a set are dropped
// too. Anything else passes: other message types, short or malformed messages, an
// address attribute not found within the first attributes, and commands this version
// does not know. A filter that cannot tell keeps the message.
import { endianness } from "node:os";

// Opcodes of linux/filter.h.
const LD_W_LEN = 0x80; // A = skb->len
const LD_H_ABS = 0x28; // A = half-word at k (network order)
const LD_B_ABS = 0x30; // A = byte at k
const LD_W_IND = 0x40; // A = word at X + k (network order)
const LD_B_IND = 0x50; // A = byte at X + k
const LDX_IMM = 0x01; // X = k
const LDX_MEM = 0x61; // X = M[k]
const ST = 0x02; // M[k] = A
const STX = 0x03; // M[k] = X
const ADD_K = 0x04;
const ADD_X = 0x0c;
const AND_K = 0x54;
const OR_X = 0x4c;
const LSH_K = 0x64;
const TAX = 0x07;
const TXA = 0x87;
const JA = 0x05; // pc += k (32 bits: the one long jump)
const JEQ_K = 0x15;
const JGE_K = 0x35;
const JGE_X = 0x3d;
const RET_K = 0x06;

/** nlmsghdr (16 bytes) + genlmsghdr (cmd, version, reserved). */
const NLMSG_TYPE_OFFSET = 4;
const GENL_CMD_OFFSET = 16;
const GENL_HEADER_END = 20;
/** MPTCP_ATTR_SADDR4 / MPTCP_ATTR_SADDR6 (uapi/linux/mptcp_pm.h). */
const ATTR_SADDR4 = 5;
const ATTR_SADDR6 = 6;
/** How many attributes are looked at for the source address: it is the third to fifth on every kernel seen. */
const ATTRIBUTES_WALKED = 8;
/** The whole message is kept (a return value larger than the packet keeps all of it). */
const KEEP = 0xffffffff;
const DROP = 0;
/** Conditional jumps reach at most 255 instructions ahead; the lists stay shorter. */
const MAX_DROPPED_COMMANDS = 200;
const MAX_ADDRESSES = 200;

export interface SourceAddressDrop {
  /** Commands whose message is dropped when its source address is one of these. */
  readonly commands: readonly number[];
  /** IPv4 addresses as the u32 of their four bytes read big-endian (10.0.2.1 is 0x0a000201). */
  readonly ipv4: readonly number[];
  /** IPv6 addresses, 16 bytes each. */
  readonly ipv6: readonly Buffer[];
}

interface Instruction {
  code: number;
  jt: number | string;
  jf: number | string;
  k: number | string;
}

/** A few-line assembler: jumps name labels, resolved to offsets at the end. */
class Program {
  private readonly code: Instruction[] = [];
  private readonly labels = new Map<string, number>();

  emit(code: number, k: number | string = 0, jt: number | string = 0, jf: number | string = 0): this {
    this.code.push({ code, jt, jf, k });
    return this;
  }

  label(name: string): this {
    this.labels.set(name, this.code.length);
    return this;
  }

  /** `ret KEEP` unless the comparison holds: the common guard, kept local so no jump is long. */
  keepUnless(code: number, k: number): this {
    return this.emit(code, k, 1, 0).emit(RET_K, KEEP);
  }

  bytes(): Buffer {
    const out = Buffer.alloc(this.code.length * 8);
    const little = endianness() === "LE";
    this.code.forEach((instruction, i) => {
      const offset = (target: number | string, max: number) => {
        if (typeof target === "number") return target;
        const at = this.labels.get(target);
        const distance = at === undefined ? -1 : at - i - 1;
        if (distance < 0 || distance > max) throw new RangeError(`event filter: jump to ${target} out of range`);
        return distance;
      };
      const code = instruction.code;
      const k = code === JA ? offset(instruction.k, 0xffff) : (instruction.k as number);
      if (little) {
        out.writeUInt16LE(code, i * 8);
        out.writeUInt32LE(k >>> 0, i * 8 + 4);
      } else {
        out.writeUInt16BE(code, i * 8);
        out.writeUInt32BE(k >>> 0, i * 8 + 4);
      }
      out[i * 8 + 2] = offset(instruction.jt, 0xff);
      out[i * 8 + 3] = offset(instruction.jf, 0xff);
    });
    return out;
  }
}

/**
 * The filter's instructions (struct sock_filter, 8 bytes each, host order), for
 * `RawNetlinkSocket.attachFilter`. cBPF reads half-words and words in network order:
 * the family id is compared as the bytes of a host-order u16 read big-endian, and an
 * attribute's host-order length is put together from its two bytes.
 */
export function eventFilterProgram(familyId: number, droppedCommands: readonly number[], sources?: SourceAddressDrop): Buffer {
  if (!Number.isInteger(familyId) || familyId < 0 || familyId > 0xffff) throw new RangeError(`bad generic netlink family id ${familyId}`);
  const commands = [...new Set(droppedCommands)];
  const isCommand = (c: number) => Number.isInteger(c) && c >= 0 && c <= 0xff;
  if (commands.length > MAX_DROPPED_COMMANDS || !commands.every(isCommand)) throw new RangeError("bad command list for the event filter");
  const bySource = sources && sources.ipv4.length + sources.ipv6.length > 0 ? sources : undefined;
  if (
    bySource &&
    (!bySource.commands.every(isCommand) ||
      bySource.ipv4.length > MAX_ADDRESSES ||
      bySource.ipv6.length > MAX_ADDRESSES ||
      bySource.ipv6.some((a) => a.length !== 16))
  )
    throw new RangeError("bad source address list for the event filter");
  const little = endianness() === "LE";
  const typeAsRead = little ? ((familyId & 0xff) << 8) | (familyId >> 8) : familyId;
  const p = new Program();
  p.emit(LD_W_LEN).keepUnless(JGE_K, GENL_HEADER_END);
  p.emit(LD_H_ABS, NLMSG_TYPE_OFFSET).keepUnless(JEQ_K, typeAsRead);
  p.emit(LD_B_ABS, GENL_CMD_OFFSET);
  for (const command of commands) p.emit(JEQ_K, command, "drop", 0);
  for (const command of bySource?.commands ?? []) p.emit(JEQ_K, command, 0, 1).emit(JA, "walk");
  p.emit(RET_K, KEEP);
  p.label("drop").emit(RET_K, DROP);
  if (!bySource) return p.bytes();

  // Walk the attributes (X: the offset of the current one) for the source address.
  p.label("walk").emit(LDX_IMM, GENL_HEADER_END);
  // The host-order u16 at X + at, into A: its two bytes in host order.
  const [low, high] = little ? [0, 1] : [1, 0];
  for (let i = 0; i < ATTRIBUTES_WALKED; i++) {
    p.emit(STX, 0).emit(TXA).emit(ADD_K, 4).emit(TAX).emit(LD_W_LEN).keepUnless(JGE_X, 0).emit(LDX_MEM, 0);
    p.emit(LD_B_IND, 2 + low); // the type: below 256, its other byte holds only flags
    p.emit(JEQ_K, ATTR_SADDR4, 0, 1).emit(JA, "v4");
    p.emit(JEQ_K, ATTR_SADDR6, 0, 1).emit(JA, "v6");
    // Next: X += (nla_len + 3) & ~3, and a length under 4 ends the walk.
    p.emit(LD_B_IND, high).emit(LSH_K, 8).emit(ST, 1).emit(LD_B_IND, low).emit(LDX_MEM, 1).emit(OR_X).emit(ADD_K, 3).emit(AND_K, 0xfffc);
    p.keepUnless(JGE_K, 4).emit(ST, 1).emit(LDX_MEM, 0).emit(TXA).emit(LDX_MEM, 1).emit(ADD_X).emit(TAX);
  }
  p.emit(RET_K, KEEP);

  // X + 4 + size must be inside the message, then the address compared.
  const inside = (size: number) =>
    p
      .emit(STX, 0)
      .emit(TXA)
      .emit(ADD_K, 4 + size)
      .emit(TAX)
      .emit(LD_W_LEN)
      .keepUnless(JGE_X, 0)
      .emit(LDX_MEM, 0);
  p.label("v4");
  inside(4).emit(LD_W_IND, 4);
  for (const address of bySource.ipv4) p.emit(JEQ_K, address >>> 0, "drop4", 0);
  p.emit(RET_K, KEEP);
  p.label("drop4").emit(RET_K, DROP);
  p.label("v6");
  inside(16);
  for (const address of bySource.ipv6) {
    // Four words; a mismatch goes on to the next address (9 instructions each).
    for (let w = 0; w < 4; w++) p.emit(LD_W_IND, 4 + 4 * w).emit(JEQ_K, address.readUInt32BE(4 * w), 0, 7 - 2 * w);
    p.emit(RET_K, DROP);
  }
  p.emit(RET_K, KEEP);
  return p.bytes();
}

/** An IPv4 address's u32 as cBPF reads it (network order). */
export function ipv4Word(address: string): number {
  const parts = address.split(".").map(Number);
  return (((parts[0] ?? 0) << 24) | ((parts[1] ?? 0) << 16) | ((parts[2] ?? 0) << 8) | (parts[3] ?? 0)) >>> 0;
}
