// The data of a program selection: every name, cgroup and uid the `mptcp for`
// statements test, each in a slot of one `const volatile` struct (mpp_selection in
// the generated C), and that struct's bytes. The generated C holds slot numbers only;
// the names travel as these bytes, filled in when the object is loaded (libbpf sets
// .rodata before the verifier sees it, so it reads them as constants). Pure.
import { parseProgramPattern, type PatternElement } from "../../language/program-pattern.js";
import { selectionsOf, type ConditionModel, type PolicyModel } from "../model.js";

/** What `cgroup` and `unit` name; the runtime turns each into a cgroup id and depth. */
export type CgroupRef = { readonly kind: "cgroup"; readonly path: string } | { readonly kind: "unit"; readonly name: string };

export interface SelectionSlots {
  readonly programs: readonly string[];
  readonly cgroups: readonly CgroupRef[];
  readonly users: readonly number[];
}

/** A cgroup as the kernel names it: its id (the inode of its directory) and depth (root 0). */
export interface ResolvedCgroup {
  readonly id: bigint;
  readonly level: number;
}

/** Sizes of the C structs (the header's, checked against clang's by test/program-selection.test.ts). */
export const PATTERN_SIZE = 256 * 4 + 3 * 4 + 4;
export const CGROUP_SIZE = 16;
const HEAD_SIZE = 8;

/** Every tested value once, in order of first appearance. */
export function selectionSlots(model: PolicyModel): SelectionSlots {
  const programs: string[] = [];
  const cgroups: CgroupRef[] = [];
  const users: number[] = [];
  const visit = (c: ConditionModel): void => {
    switch (c.op) {
      case "and":
      case "or":
        c.operands.forEach(visit);
        return;
      case "not":
        visit(c.operand);
        return;
      case "program":
        if (!programs.includes(c.pattern)) programs.push(c.pattern);
        return;
      case "user":
        if (!users.includes(c.uid)) users.push(c.uid);
        return;
      case "cgroup":
      case "unit": {
        const ref: CgroupRef = c.op === "cgroup" ? { kind: "cgroup", path: c.path } : { kind: "unit", name: c.name };
        if (slotOfCgroup({ programs, cgroups, users }, ref) < 0) cgroups.push(ref);
        return;
      }
      default:
        return;
    }
  };
  for (const s of selectionsOf(model)) visit(s.condition);
  return { programs, cgroups, users };
}

export function slotOfCgroup(slots: SelectionSlots, ref: CgroupRef): number {
  return slots.cgroups.findIndex((g) => g.kind === ref.kind && (g.kind === "cgroup" ? g.path === (ref as { path: string }).path : g.name === (ref as { name: string }).name));
}

/** Array lengths in the C struct: at least 1, as C has no empty arrays. */
export function slotCounts(slots: SelectionSlots): { programs: number; cgroups: number; users: number } {
  return { programs: Math.max(1, slots.programs.length), cgroups: Math.max(1, slots.cgroups.length), users: Math.max(1, slots.users.length) };
}

export function selectionSize(slots: SelectionSlots): number {
  const n = slotCounts(slots);
  const size = HEAD_SIZE + n.cgroups * CGROUP_SIZE + n.programs * PATTERN_SIZE + n.users * 4;
  return Math.ceil(size / 8) * 8;
}

/**
 * A pattern as the BPF matcher's tables: a set of states, one bit per element, the end
 * state last. accepts[c] has bit i when element i takes byte c; stars has the bits of
 * the `*` elements; start is the first state with the stars in front skipped.
 */
export interface PatternTables {
  readonly accepts: Uint32Array;
  readonly stars: number;
  readonly start: number;
  readonly accept: number;
}

export function patternTables(elements: readonly PatternElement[]): PatternTables {
  if (elements.length > 31) throw new Error("a pattern has at most 31 elements (15 bytes and the stars between them)");
  const accepts = new Uint32Array(256);
  let stars = 0;
  elements.forEach((e, i) => {
    const bit = (1 << i) >>> 0;
    if (e.star) stars = (stars | bit) >>> 0;
    else for (const b of e.bytes) accepts[b] = ((accepts[b] as number) | bit) >>> 0;
  });
  const start = (1 | ((stars & 1) << 1)) >>> 0;
  return { accepts, stars, start, accept: (1 << elements.length) >>> 0 };
}

export interface SelectionData {
  /** Inode of the network namespace served (0: every one). */
  readonly netns: number;
  /** In slot order; undefined where the cgroup does not exist (it then matches nothing). */
  readonly cgroups: readonly (ResolvedCgroup | undefined)[];
}

/** The bytes of mpp_selection, little-endian (BPF runs in the host's byte order: x86-64, arm64). */
export function encodeSelection(slots: SelectionSlots, data: SelectionData): Uint8Array {
  const n = slotCounts(slots);
  const bytes = new Uint8Array(selectionSize(slots));
  const view = new DataView(bytes.buffer);
  view.setUint32(0, data.netns >>> 0, true);
  let at = HEAD_SIZE;
  for (let i = 0; i < n.cgroups; i += 1, at += CGROUP_SIZE) {
    const g = data.cgroups[i];
    if (!g) continue;
    view.setBigUint64(at, g.id, true);
    view.setUint32(at + 8, g.level, true);
  }
  for (let i = 0; i < n.programs; i += 1, at += PATTERN_SIZE) {
    const pattern = slots.programs[i];
    if (pattern === undefined) continue;
    const parsed = parseProgramPattern(pattern);
    if ("problem" in parsed) throw new Error(`unchecked program pattern: ${parsed.problem}`);
    const t = patternTables(parsed.elements);
    t.accepts.forEach((v, c) => view.setUint32(at + 4 * c, v, true));
    view.setUint32(at + 1024, t.stars, true);
    view.setUint32(at + 1028, t.start, true);
    view.setUint32(at + 1032, t.accept, true);
  }
  for (let i = 0; i < n.users; i += 1, at += 4) {
    // An unused slot holds (uid_t)-1, which no task has.
    view.setUint32(at, slots.users[i] ?? 0xffff_ffff, true);
  }
  return bytes;
}
