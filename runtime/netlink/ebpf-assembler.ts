// A small eBPF assembler for the events socket's filter (ebpf-event-filter.ts): the
// few instructions it uses, jumps to named labels resolved at the end, and one map
// reference (ld_imm64 with BPF_PSEUDO_MAP_FD; the netlink addon puts the fd there).
import { endianness } from "node:os";

export type Register = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;
export type Size = 1 | 2 | 4 | 8;

// Classes and fields of linux/bpf.h.
const LD = 0x00;
const LDX = 0x01;
const ST = 0x02;
const STX = 0x03;
const JMP = 0x05;
const JMP32 = 0x06;
const ALU64 = 0x07;
const ALU = 0x04;
const K = 0x00;
const X = 0x08;
const MEM = 0x60;
const IMM = 0x00;
const SIZE: Record<Size, number> = { 1: 0x10, 2: 0x08, 4: 0x00, 8: 0x18 };
const OP = { add: 0x00, and: 0x50, mov: 0xb0 } as const;
const JUMP = { ja: 0x00, jeq: 0x10, jgt: 0x20, jne: 0x50, jlt: 0xa0, call: 0x80, exit: 0x90 } as const;
const PSEUDO_MAP_FD = 1;

/** Helper functions (enum bpf_func_id). */
export const HELPER = { mapLookupElem: 1, mapUpdateElem: 2, mapDeleteElem: 3, skbLoadBytes: 26 } as const;

type Comparison = "jeq" | "jne" | "jgt" | "jlt";

interface Instruction {
  code: number;
  dst: number;
  src: number;
  off: number | string;
  imm: number;
}

export class EbpfProgram {
  private readonly code: Instruction[] = [];
  private readonly labels = new Map<string, number>();

  private push(code: number, dst: number, src: number, off: number | string, imm: number): this {
    this.code.push({ code, dst, src, off, imm: imm | 0 });
    return this;
  }

  label(name: string): this {
    if (this.labels.has(name)) throw new Error(`eBPF assembler: label ${name} defined twice`);
    this.labels.set(name, this.code.length);
    return this;
  }

  /** dst = imm (64-bit move of a sign-extended 32-bit value). */
  movImm(dst: Register, imm: number): this {
    return this.push(ALU64 | OP.mov | K, dst, 0, 0, imm);
  }

  /** 32-bit dst = imm: the upper half is zero (a return value of 0xffffffff). */
  mov32Imm(dst: Register, imm: number): this {
    return this.push(ALU | OP.mov | K, dst, 0, 0, imm);
  }

  mov(dst: Register, src: Register): this {
    return this.push(ALU64 | OP.mov | X, dst, src, 0, 0);
  }

  addImm(dst: Register, imm: number): this {
    return this.push(ALU64 | OP.add | K, dst, 0, 0, imm);
  }

  add(dst: Register, src: Register): this {
    return this.push(ALU64 | OP.add | X, dst, src, 0, 0);
  }

  andImm(dst: Register, imm: number): this {
    return this.push(ALU64 | OP.and | K, dst, 0, 0, imm);
  }

  /** dst = *(size *)(src + off), zero-extended. */
  load(size: Size, dst: Register, src: Register, off: number): this {
    return this.push(LDX | MEM | SIZE[size], dst, src, off, 0);
  }

  /** *(size *)(dst + off) = src. */
  store(size: Size, dst: Register, off: number, src: Register): this {
    return this.push(STX | MEM | SIZE[size], dst, src, off, 0);
  }

  storeImm(size: Size, dst: Register, off: number, imm: number): this {
    return this.push(ST | MEM | SIZE[size], dst, 0, off, imm);
  }

  /** dst = a 64-bit constant (two slots). */
  loadImm64(dst: Register, value: bigint): this {
    const v = BigInt.asUintN(64, value);
    this.push(LD | IMM | SIZE[8], dst, 0, 0, Number(v & 0xffffffffn));
    return this.push(0, 0, 0, 0, Number(v >> 32n));
  }

  /** dst = the filter's map (the addon writes its fd here). */
  loadMap(dst: Register): this {
    this.push(LD | IMM | SIZE[8], dst, PSEUDO_MAP_FD, 0, 0);
    return this.push(0, 0, 0, 0, 0);
  }

  /** Jump to `target` when dst (64 bits) compared with imm (sign-extended) holds. */
  jumpImm(op: Comparison, dst: Register, imm: number, target: string): this {
    return this.push(JMP | JUMP[op] | K, dst, 0, target, imm);
  }

  /** The same on the lower 32 bits of dst: compares u32 values with any 32-bit constant. */
  jump32Imm(op: Comparison, dst: Register, imm: number, target: string): this {
    return this.push(JMP32 | JUMP[op] | K, dst, 0, target, imm);
  }

  jumpReg(op: Comparison, dst: Register, src: Register, target: string): this {
    return this.push(JMP | JUMP[op] | X, dst, src, target, 0);
  }

  goto(target: string): this {
    return this.push(JMP | JUMP.ja, 0, 0, target, 0);
  }

  call(helper: number): this {
    return this.push(JMP | JUMP.call, 0, 0, 0, helper);
  }

  exit(): this {
    return this.push(JMP | JUMP.exit, 0, 0, 0, 0);
  }

  get length(): number {
    return this.code.length;
  }

  /** struct bpf_insn entries, host order (the register nibbles' order follows it). */
  bytes(): Buffer {
    const little = endianness() === "LE";
    const out = Buffer.alloc(this.code.length * 8);
    this.code.forEach((insn, i) => {
      let off = insn.off;
      if (typeof off === "string") {
        const at = this.labels.get(off);
        if (at === undefined) throw new Error(`eBPF assembler: no label ${off}`);
        off = at - i - 1;
        if (off < -0x8000 || off > 0x7fff) throw new RangeError(`eBPF assembler: jump to ${insn.off} out of range`);
      }
      out[i * 8] = insn.code;
      out[i * 8 + 1] = little ? (insn.src << 4) | insn.dst : (insn.dst << 4) | insn.src;
      if (little) {
        out.writeInt16LE(off, i * 8 + 2);
        out.writeInt32LE(insn.imm, i * 8 + 4);
      } else {
        out.writeInt16BE(off, i * 8 + 2);
        out.writeInt32BE(insn.imm, i * 8 + 4);
      }
    });
    return out;
  }
}
