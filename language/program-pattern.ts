// `program "NAME"` patterns: a task's comm (at most 15 bytes) against a glob with
// `*`, `?` and `[..]` as interface patterns take them. A pattern is read here once,
// into elements the checker validates and the BPF back end turns into tables, so
// both agree on what a pattern means. Bytes, not characters: a comm is bytes, so `?`
// stands for one byte.
import { PROGRAM_NAME_MAX } from "./vocabulary.js";

/** One element of a pattern: any run of bytes, or exactly one byte of a set. */
export type PatternElement = { readonly star: true } | { readonly star: false; readonly bytes: ReadonlySet<number> };

export type ParsedPattern = { readonly elements: readonly PatternElement[] } | { readonly problem: string };

const encoder = new TextEncoder();
const STAR = 0x2a;
const QUESTION = 0x3f;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const DASH = 0x2d;
const CARET = 0x5e;

/** Read a pattern; consecutive stars are one (they mean the same). */
export function parseProgramPattern(pattern: string): ParsedPattern {
  if (pattern === "") return { problem: "a program name cannot be empty" };
  const bytes = encoder.encode(pattern);
  if (bytes.some((b) => b < 0x20 || b === 0x7f)) return { problem: "a program name cannot hold control characters" };
  const elements: PatternElement[] = [];
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i] as number;
    if (b === STAR) {
      if (!elements[elements.length - 1]?.star) elements.push({ star: true });
      i += 1;
    } else if (b === QUESTION) {
      elements.push({ star: false, bytes: anyByte() });
      i += 1;
    } else if (b === OPEN) {
      const set = readClass(bytes, i);
      if ("problem" in set) return set;
      elements.push({ star: false, bytes: set.bytes });
      i = set.next;
    } else {
      elements.push({ star: false, bytes: new Set([b]) });
      i += 1;
    }
  }
  const fixed = elements.filter((e) => !e.star).length;
  if (fixed > PROGRAM_NAME_MAX)
    return { problem: `'${pattern}' needs ${fixed} bytes, but the kernel keeps at most ${PROGRAM_NAME_MAX} of a program's name, so it can never match` };
  return { elements };
}

function anyByte(): Set<number> {
  const set = new Set<number>();
  for (let b = 1; b < 256; b += 1) set.add(b);
  return set;
}

/** `[abc]`, `[a-z]` or `[^a]`, starting at `start` (the `[`); as picomatch, `!` is no negation. */
function readClass(bytes: Uint8Array, start: number): { bytes: Set<number>; next: number } | { problem: string } {
  let i = start + 1;
  const negate = bytes[i] === CARET;
  if (negate) i += 1;
  const set = new Set<number>();
  let first = true;
  while (i < bytes.length && (bytes[i] !== CLOSE || first)) {
    const low = bytes[i] as number;
    if (bytes[i + 1] === DASH && i + 2 < bytes.length && bytes[i + 2] !== CLOSE) {
      const high = bytes[i + 2] as number;
      if (high < low) return { problem: `the range '${String.fromCharCode(low)}-${String.fromCharCode(high)}' is backwards` };
      for (let b = low; b <= high; b += 1) set.add(b);
      i += 3;
    } else {
      set.add(low);
      i += 1;
    }
    first = false;
  }
  if (i >= bytes.length) return { problem: "'[' opens a class that is never closed with ']'" };
  if (!negate) return { bytes: set, next: i + 1 };
  const others = anyByte();
  for (const b of set) others.delete(b);
  return { bytes: others, next: i + 1 };
}

/** Whether a comm matches (the reference the BPF tables are tested against). */
export function programMatches(elements: readonly PatternElement[], comm: string): boolean {
  const bytes = encoder.encode(comm).slice(0, PROGRAM_NAME_MAX);
  let states = 1n;
  const closure = (s: bigint) => {
    let out = s;
    elements.forEach((e, i) => {
      if (e.star && (out & (1n << BigInt(i))) !== 0n) out |= 1n << BigInt(i + 1);
    });
    return out;
  };
  states = closure(states);
  for (const c of bytes) {
    let next = 0n;
    elements.forEach((e, i) => {
      if ((states & (1n << BigInt(i))) === 0n) return;
      if (e.star) next |= 1n << BigInt(i);
      else if (e.bytes.has(c)) next |= 1n << BigInt(i + 1);
    });
    states = closure(next);
  }
  return (states & (1n << BigInt(elements.length))) !== 0n;
}
