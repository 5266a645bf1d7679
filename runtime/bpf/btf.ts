// Reading BTF, the kernel's type information (/sys/kernel/btf/vmlinux, or the .BTF
// section of an object): struct and function names, which functions carry the
// "bpf_kfunc" declaration tag (registered kfuncs), and, on demand, a struct's members
// and a function prototype's parameters with their types written out as C. One pass
// records where each type starts; names and members are decoded only when asked for,
// since the kernel's BTF has some 150,000 types.
import { readFileSync } from "node:fs";

export const VMLINUX_BTF = "/sys/kernel/btf/vmlinux";

const KIND = { INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10, RESTRICT: 11 } as const;
const KIND_FUNC = 12;
/** A FUNC's vlen is its linkage: 0 static, 1 global, 2 extern. */
const FUNC_EXTERN = 2;
const KIND_FUNC_PROTO = 13;
const KIND_DECL_TAG = 17;
const KIND_TYPE_TAG = 18;
const KIND_ENUM64 = 19;
/** Kinds that only qualify or rename another type. */
const TRANSPARENT: ReadonlySet<number> = new Set([KIND.TYPEDEF, KIND.VOLATILE, KIND.CONST, KIND.RESTRICT, KIND_TYPE_TAG]);

export class BtfError extends Error {
  override readonly name = "BtfError";
}

/** A struct member or a prototype parameter: its name and its type id. */
export interface BtfEntry {
  readonly name: string;
  readonly type: number;
}

export interface Btf {
  /** Struct type ids by name (the first of each name). */
  readonly structs: ReadonlyMap<string, number>;
  /** Function type ids by name. */
  readonly funcs: ReadonlyMap<string, number>;
  /** Functions tagged "bpf_kfunc"; empty when the BTF carries no such tags at all. */
  readonly kfuncs: ReadonlySet<string>;
  /** Functions declared extern (in an object's BTF: the kfuncs it calls). */
  readonly externs: ReadonlySet<string>;
  /** Members of a struct or union, parameters of a function prototype. */
  entries(id: number): BtfEntry[];
  /** The prototype of a function, or of what a function pointer points to; undefined: neither. */
  prototype(id: number): { readonly returns: number; readonly params: readonly BtfEntry[] } | undefined;
  /** Number of elements of an array type (through typedefs and qualifiers); undefined: not an array. */
  arrayLength(id: number): number | undefined;
  /** A type as C writes it: "struct sock *", "int", "char [16]". */
  typeName(id: number): string;
  /** Size in bytes of a struct, union, enum or integer type; undefined for other kinds. */
  size(id: number): number | undefined;
  /** The value of an enumerator (any enum, named or not), e.g. MPTCP_EVENT_LISTENER_CREATED. */
  enumerator(name: string): number | undefined;
}

/** Struct and function names of a raw BTF blob, for tests and quick checks. */
export function readBtfNames(bytes: Uint8Array): {
  structs: ReadonlySet<string>;
  funcs: ReadonlySet<string>;
  kfuncs: ReadonlySet<string>;
  externs: ReadonlySet<string>;
} {
  const btf = readBtf(bytes);
  return { structs: new Set(btf.structs.keys()), funcs: new Set(btf.funcs.keys()), kfuncs: btf.kfuncs, externs: btf.externs };
}

export function readBtfFile(path = VMLINUX_BTF): Btf {
  return readBtf(readFileSync(path));
}

export function readBtf(bytes: Uint8Array): Btf {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 24) throw new BtfError("too short for a BTF header");
  const magic = view.getUint16(0, true);
  const little = magic === 0xeb9f;
  if (!little && magic !== 0x9feb) throw new BtfError("not BTF (bad magic)");
  const u32 = (at: number) => view.getUint32(at, little);
  const hdrLen = u32(4);
  const typeStart = hdrLen + u32(8);
  const typeEnd = typeStart + u32(12);
  const strStart = hdrLen + u32(16);
  const strEnd = strStart + u32(20);
  if (typeEnd > bytes.byteLength || strEnd > bytes.byteLength) throw new BtfError("truncated BTF");
  const decoder = new TextDecoder();
  const name = (off: number): string => {
    const at = strStart + off;
    let end = at;
    while (end < strEnd && bytes[end] !== 0) end++;
    return decoder.decode(bytes.subarray(at, end));
  };
  // offsets[id]: where type id's record starts (id 0 is void).
  const offsets: number[] = [0];
  const structs = new Map<string, number>();
  const funcs = new Map<string, number>();
  const funcNames = new Map<number, string>();
  const externs = new Set<string>();
  const tagged = new Set<number>();
  for (let at = typeStart; at < typeEnd;) {
    const id = offsets.length;
    offsets.push(at);
    const nameOff = u32(at);
    const info = u32(at + 4);
    const kind = (info >>> 24) & 0x1f;
    if (kind === KIND.STRUCT && nameOff !== 0) {
      const n = name(nameOff);
      if (!structs.has(n)) structs.set(n, id);
    } else if (kind === KIND_FUNC) {
      const n = name(nameOff);
      funcNames.set(id, n);
      if (!funcs.has(n)) funcs.set(n, id);
      if ((info & 0xffff) === FUNC_EXTERN) externs.add(n);
    } else if (kind === KIND_DECL_TAG && name(nameOff) === "bpf_kfunc") tagged.add(u32(at + 8));
    at += 12 + extraSize(kind, info & 0xffff);
  }
  const kfuncs = new Set([...tagged].flatMap((t) => (funcNames.has(t) ? [funcNames.get(t) as string] : [])));

  const record = (id: number) => {
    const at = offsets[id];
    if (id <= 0 || at === undefined) return undefined;
    const info = u32(at + 4);
    return { id, at, nameOff: u32(at), kind: (info >>> 24) & 0x1f, vlen: info & 0xffff, ref: u32(at + 8) };
  };
  const entries = (id: number): BtfEntry[] => {
    const r = record(id);
    if (!r) return [];
    const size = r.kind === KIND.STRUCT || r.kind === KIND.UNION ? 12 : r.kind === KIND_FUNC_PROTO ? 8 : 0;
    if (size === 0) return [];
    return Array.from({ length: r.vlen }, (_, i) => ({ name: name(u32(r.at + 12 + size * i)), type: u32(r.at + 12 + size * i + 4) }));
  };
  /** Through typedefs and qualifiers to the type that says what it is. */
  const strip = (id: number): number => {
    for (let depth = 0; depth < 64; depth++) {
      const r = record(id);
      if (!r || !TRANSPARENT.has(r.kind)) return id;
      id = r.ref;
    }
    return id;
  };
  const prototype = (id: number) => {
    let r = record(strip(id));
    if (r?.kind === KIND.PTR || r?.kind === KIND_FUNC) r = record(strip(r.ref));
    if (r?.kind !== KIND_FUNC_PROTO) return undefined;
    return { returns: r.ref, params: entries(r.id) };
  };
  const arrayLength = (id: number) => {
    const r = record(strip(id));
    return r?.kind === KIND.ARRAY ? u32(r.at + 12 + 8) : undefined;
  };
  const size = (id: number) => {
    const r = record(id);
    return r && (r.kind === KIND.STRUCT || r.kind === KIND.UNION || r.kind === KIND.ENUM || r.kind === KIND_ENUM64 || r.kind === KIND.INT) ? r.ref : undefined;
  };
  // Enumerators are looked up rarely (feature probes): indexed on the first lookup.
  let enumerators: Map<string, number> | undefined;
  const enumerator = (wanted: string) => {
    if (!enumerators) {
      enumerators = new Map();
      for (let id = 1; id < offsets.length; id++) {
        const r = record(id);
        if (!r || (r.kind !== KIND.ENUM && r.kind !== KIND_ENUM64)) continue;
        const width = r.kind === KIND.ENUM ? 8 : 12;
        for (let i = 0; i < r.vlen; i++) {
          const n = name(u32(r.at + 12 + width * i));
          if (!enumerators.has(n)) enumerators.set(n, view.getInt32(r.at + 12 + width * i + 4, little));
        }
      }
    }
    return enumerators.get(wanted);
  };
  const typeName = (id: number, depth = 0): string => {
    const r = record(id);
    if (!r) return "void";
    if (depth > 32) return "...";
    const own = r.nameOff === 0 ? "" : name(r.nameOff);
    switch (r.kind) {
      case KIND.PTR:
        return `${typeName(r.ref, depth + 1)} *`.replace("* *", "**");
      case KIND.CONST:
        return `const ${typeName(r.ref, depth + 1)}`;
      case KIND.VOLATILE:
        return `volatile ${typeName(r.ref, depth + 1)}`;
      case KIND.RESTRICT:
      case KIND_TYPE_TAG:
        return typeName(r.ref, depth + 1);
      case KIND.ARRAY:
        return `${typeName(u32(r.at + 12), depth + 1)} [${u32(r.at + 20)}]`;
      case KIND.STRUCT:
      case KIND.FWD:
        return `struct ${own || "(anon)"}`;
      case KIND.UNION:
        return `union ${own || "(anon)"}`;
      case KIND.ENUM:
      case KIND_ENUM64:
        return `enum ${own || "(anon)"}`;
      case KIND_FUNC_PROTO:
        return `${typeName(r.ref, depth + 1)} (${entries(id)
          .map((p) => typeName(p.type, depth + 1))
          .join(", ")})`;
      default:
        return own || "(anon)";
    }
  };
  return { structs, funcs, kfuncs, externs, entries, prototype, arrayLength, typeName: (id) => typeName(id), size, enumerator };
}

function extraSize(kind: number, vlen: number): number {
  switch (kind) {
    case 1: // INT
    case 14: // VAR
    case 17: // DECL_TAG
      return 4;
    case 3: // ARRAY
      return 12;
    case 4: // STRUCT
    case 5: // UNION
    case 15: // DATASEC
    case 19: // ENUM64
      return 12 * vlen;
    case 6: // ENUM
    case 13: // FUNC_PROTO
      return 8 * vlen;
    case 2: // PTR
    case 7: // FWD
    case 8: // TYPEDEF
    case 9: // VOLATILE
    case 10: // CONST
    case 11: // RESTRICT
    case 12: // FUNC
    case 16: // FLOAT
    case 18: // TYPE_TAG
      return 0;
    default:
      throw new BtfError(`unknown BTF kind ${kind}`);
  }
}
