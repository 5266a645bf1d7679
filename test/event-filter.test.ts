// The events socket's classic BPF program (runtime/netlink/event-filter.ts) run by a
// small cBPF interpreter on MPTCP events recorded from a real kernel: what it keeps and
// drops, and that no truncated message makes it read outside the message (the kernel
// would then drop the message: the one failure that loses an event). The same program
// on the kernel: monitor-status.test.ts and daemon-events.test.ts.
import { describe, expect, it } from "vitest";
import { eventFilterProgram, ipv4Word } from "../runtime/netlink/event-filter.js";
import { parseAddress } from "../runtime/netlink/addresses.js";
import { decodeMptcpEvent } from "../runtime/netlink/mptcp-codec.js";
import recorded from "./fixtures/netlink/recorded.json" with { type: "json" };

const FAMILY = recorded.family.id;
const EVENTS = [...recorded.messages.events_client, ...recorded.messages.events_server].map((hex) => Buffer.from(hex, "hex"));

class OutOfBounds extends Error {}

/** What the kernel's sk_filter would return for this message: 0 drops it. */
function run(program: Buffer, packet: Buffer): number {
  const M = new Array<number>(16).fill(0);
  let A = 0;
  let X = 0;
  const at = (offset: number, size: number) => {
    if (offset < 0 || offset + size > packet.length) throw new OutOfBounds(`read of ${size} at ${offset} in ${packet.length}`);
    return offset;
  };
  for (let pc = 0; pc < program.length / 8; pc++) {
    const code = program.readUInt16LE(pc * 8);
    const jt = program[pc * 8 + 2]!;
    const jf = program[pc * 8 + 3]!;
    const k = program.readUInt32LE(pc * 8 + 4);
    const jump = (taken: boolean) => (pc += taken ? jt : jf);
    switch (code) {
      case 0x80:
        A = packet.length;
        break;
      case 0x28:
        A = packet.readUInt16BE(at(k, 2));
        break;
      case 0x30:
        A = packet[at(k, 1)]!;
        break;
      case 0x40:
        A = packet.readUInt32BE(at(X + k, 4));
        break;
      case 0x50:
        A = packet[at(X + k, 1)]!;
        break;
      case 0x01:
        X = k;
        break;
      case 0x61:
        X = M[k]!;
        break;
      case 0x02:
        M[k] = A;
        break;
      case 0x03:
        M[k] = X;
        break;
      case 0x04:
        A = (A + k) >>> 0;
        break;
      case 0x0c:
        A = (A + X) >>> 0;
        break;
      case 0x54:
        A = (A & k) >>> 0;
        break;
      case 0x4c:
        A = (A | X) >>> 0;
        break;
      case 0x64:
        A = (A << k) >>> 0;
        break;
      case 0x07:
        X = A;
        break;
      case 0x87:
        A = X;
        break;
      case 0x05:
        pc += k;
        break;
      case 0x15:
        jump(A === k);
        break;
      case 0x35:
        jump(A >= k);
        break;
      case 0x3d:
        jump(A >= X);
        break;
      case 0x06:
        return k;
      default:
        throw new Error(`opcode ${code.toString(16)} not interpreted`);
    }
  }
  throw new Error("the program ran off its end");
}

const decoded = EVENTS.map((m) => ({ message: m, cmd: m[16]!, event: decodeMptcpEvent(m.subarray(16)) }));
const sources = [...new Set(decoded.map((d) => d.event.saddr).filter((a): a is string => a !== undefined))];

describe("event filter program", () => {
  it("the recorded events hold connection events with IPv4 and IPv6 source addresses", () => {
    expect(decoded.some((d) => d.cmd === 2 && d.event.family === "ipv4")).toBe(true);
    expect(sources.length).toBeGreaterThan(1);
  });

  it("drops the commands it names and keeps the others", () => {
    const program = eventFilterProgram(FAMILY, [1, 10]);
    for (const { message, cmd } of decoded) expect(run(program, message) === 0, `cmd ${cmd}`).toBe(cmd === 1 || cmd === 10);
  });

  it("keeps other families' messages and messages too short for a genl header", () => {
    const program = eventFilterProgram(FAMILY, [1, 2, 3, 10, 11]);
    const other = Buffer.from(EVENTS[0]!);
    other.writeUInt16LE(FAMILY + 1, 4);
    expect(run(program, other)).not.toBe(0);
    expect(run(program, EVENTS[0]!.subarray(0, 18))).not.toBe(0);
  });

  it("drops connection events from the addresses it names, for the commands it names, and nothing else", () => {
    for (const dropped of sources) {
      const v6 = dropped.includes(":");
      const program = eventFilterProgram(FAMILY, [], {
        commands: [1, 2],
        ipv4: v6 ? [] : [ipv4Word(dropped), ipv4Word("192.0.2.77")],
        ipv6: v6 ? [Buffer.from(parseAddress(dropped).bytes)] : [],
      });
      for (const { message, cmd, event } of decoded) {
        const expected = (cmd === 1 || cmd === 2) && event.saddr === dropped;
        expect(run(program, message) === 0, `${dropped}: cmd ${cmd} from ${event.saddr}`).toBe(expected);
      }
    }
  });

  it("never reads outside a message, whatever its length (a truncated event is kept, not dropped by a fault)", () => {
    const v4 = sources.filter((a) => !a.includes(":"));
    const v6 = sources.filter((a) => a.includes(":"));
    const program = eventFilterProgram(FAMILY, [13], { commands: [1, 2, 10], ipv4: v4.map(ipv4Word), ipv6: v6.map((a) => Buffer.from(parseAddress(a).bytes)) });
    for (const message of EVENTS) {
      for (let length = 0; length <= message.length; length++) {
        const part = message.subarray(0, length);
        expect(() => run(program, part), `length ${length} of ${message.length}`).not.toThrow();
      }
    }
  });

  it("refuses what it cannot encode", () => {
    expect(() => eventFilterProgram(70000, [])).toThrow(RangeError);
    expect(() => eventFilterProgram(FAMILY, [300])).toThrow(RangeError);
    expect(() => eventFilterProgram(FAMILY, [], { commands: [2], ipv4: [], ipv6: [Buffer.alloc(4)] })).toThrow(RangeError);
  });
});
