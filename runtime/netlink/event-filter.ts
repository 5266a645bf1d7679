// A classic BPF socket filter for a generic netlink events socket: messages of the
// family whose command is in a drop list are discarded by the kernel before they are
// queued (netlink_broadcast runs the listener's filter), so they cost the reader no
// wakeup, no decode and no room in the receive buffer. Anything else passes: other
// message types, short messages, and commands this version does not know.
import { endianness } from "node:os";

// Opcodes of linux/filter.h (BPF_CLASS | BPF_SIZE | BPF_MODE, BPF_JMP | op | BPF_K, BPF_RET | BPF_K).
const LD_W_LEN = 0x80;
const LD_H_ABS = 0x28;
const LD_B_ABS = 0x30;
const JGE_K = 0x35;
const JEQ_K = 0x15;
const RET_K = 0x06;

/** nlmsghdr (16 bytes) + genlmsghdr (cmd, version, reserved). */
const NLMSG_TYPE_OFFSET = 4;
const GENL_CMD_OFFSET = 16;
const GENL_HEADER_END = 20;
/** The whole message is kept (a return value larger than the packet keeps all of it). */
const KEEP = 0xffffffff;
const DROP = 0;
/** A jump's offset is one byte: at most 255 instructions ahead. */
const MAX_DROPPED = 200;

interface Instruction {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

/**
 * The filter's instructions (struct sock_filter, 8 bytes each, host order), for
 * `RawNetlinkSocket.attachFilter`. cBPF reads a half-word in network order, so the
 * family id is compared as the bytes of a host-order u16 read big-endian.
 */
export function eventFilterProgram(familyId: number, droppedCommands: readonly number[]): Buffer {
  if (!Number.isInteger(familyId) || familyId < 0 || familyId > 0xffff) throw new RangeError(`bad generic netlink family id ${familyId}`);
  const commands = [...new Set(droppedCommands)];
  if (commands.length > MAX_DROPPED || commands.some((c) => !Number.isInteger(c) || c < 0 || c > 0xff))
    throw new RangeError("bad command list for the event filter");
  const typeAsRead = endianness() === "LE" ? ((familyId & 0xff) << 8) | (familyId >> 8) : familyId;
  const program: Instruction[] = [];
  // Laid out as: 4 header steps, the command load, one compare per command, `keep`
  // (where every miss falls through to), `drop`. Offsets count the instructions skipped.
  const keepAt = 5 + commands.length;
  const dropAt = keepAt + 1;
  const skipTo = (target: number, from: number) => target - from - 1;
  program.push({ code: LD_W_LEN, jt: 0, jf: 0, k: 0 });
  program.push({ code: JGE_K, jt: 0, jf: skipTo(keepAt, 1), k: GENL_HEADER_END });
  program.push({ code: LD_H_ABS, jt: 0, jf: 0, k: NLMSG_TYPE_OFFSET });
  program.push({ code: JEQ_K, jt: 0, jf: skipTo(keepAt, 3), k: typeAsRead });
  program.push({ code: LD_B_ABS, jt: 0, jf: 0, k: GENL_CMD_OFFSET });
  for (const command of commands) program.push({ code: JEQ_K, jt: skipTo(dropAt, program.length), jf: 0, k: command });
  program.push({ code: RET_K, jt: 0, jf: 0, k: KEEP });
  program.push({ code: RET_K, jt: 0, jf: 0, k: DROP });
  const bytes = Buffer.alloc(program.length * 8);
  program.forEach((instruction, i) => {
    const little = endianness() === "LE";
    if (little) {
      bytes.writeUInt16LE(instruction.code, i * 8);
      bytes.writeUInt32LE(instruction.k >>> 0, i * 8 + 4);
    } else {
      bytes.writeUInt16BE(instruction.code, i * 8);
      bytes.writeUInt32BE(instruction.k >>> 0, i * 8 + 4);
    }
    bytes[i * 8 + 2] = instruction.jt;
    bytes[i * 8 + 3] = instruction.jf;
  });
  return bytes;
}
