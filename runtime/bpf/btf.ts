// Reading BTF (the kernel's type information, /sys/kernel/btf/vmlinux) to learn before
// loading anything whether the running kernel has the BPF hook for MPTCP packet
// schedulers. Only names and kinds are read: struct types and functions, and which
// functions carry the "bpf_kfunc" declaration tag (registered kfuncs).
import { readFileSync } from "node:fs";

export const VMLINUX_BTF = "/sys/kernel/btf/vmlinux";

const KIND_STRUCT = 4;
const KIND_FUNC = 12;
const KIND_DECL_TAG = 17;

export interface BtfNames {
  readonly structs: ReadonlySet<string>;
  readonly funcs: ReadonlySet<string>;
  /** Functions tagged "bpf_kfunc"; empty when the BTF carries no such tags at all. */
  readonly kfuncs: ReadonlySet<string>;
}

export class BtfError extends Error {
  override readonly name = "BtfError";
}

/** Struct and function names of a raw BTF blob (the kernel's, or a .BTF section). */
export function readBtfNames(bytes: Uint8Array): BtfNames {
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
  const structs = new Set<string>();
  const funcs = new Map<number, string>();
  const tagged = new Set<number>();
  let id = 1;
  for (let at = typeStart; at < typeEnd; id++) {
    const nameOff = u32(at);
    const info = u32(at + 4);
    const vlen = info & 0xffff;
    const kind = (info >>> 24) & 0x1f;
    if (kind === KIND_STRUCT && nameOff !== 0) structs.add(name(nameOff));
    else if (kind === KIND_FUNC) funcs.set(id, name(nameOff));
    else if (kind === KIND_DECL_TAG && name(nameOff) === "bpf_kfunc") tagged.add(u32(at + 8));
    at += 12 + extraSize(kind, vlen);
  }
  const kfuncs = new Set([...tagged].flatMap((t) => (funcs.has(t) ? [funcs.get(t) as string] : [])));
  return { structs, funcs: new Set(funcs.values()), kfuncs };
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

/** What the generated schedulers need from the kernel, with what each is for. */
export const HOOK_REQUIREMENTS = {
  framework: "mptcp_sched_ops",
  structOps: "bpf_struct_ops_mptcp_sched_ops",
  kfuncs: [
    "bpf_iter_mptcp_subflow_new",
    "bpf_iter_mptcp_subflow_next",
    "bpf_iter_mptcp_subflow_destroy",
    "bpf_mptcp_subflow_tcp_sock",
    "mptcp_subflow_active",
    "mptcp_subflow_set_scheduled",
  ],
} as const;

export interface HookDetection {
  readonly present: boolean;
  /** The kernel has MPTCP's scheduler framework (struct mptcp_sched_ops). */
  readonly framework: boolean;
  /** What is missing, by BTF name. */
  readonly missing: readonly string[];
  /** One sentence for users: what the kernel lacks, or that it has everything. */
  readonly sentence: string;
}

export function detectSchedulerHook(names: BtfNames): HookDetection {
  const framework = names.structs.has(HOOK_REQUIREMENTS.framework);
  const missing: string[] = [];
  if (!framework) missing.push(`struct ${HOOK_REQUIREMENTS.framework}`);
  if (!names.structs.has(HOOK_REQUIREMENTS.structOps)) missing.push(`struct ${HOOK_REQUIREMENTS.structOps}`);
  const isKfunc = (f: string) => (names.kfuncs.size > 0 ? names.kfuncs.has(f) : names.funcs.has(f));
  for (const f of HOOK_REQUIREMENTS.kfuncs) if (!isKfunc(f)) missing.push(`kfunc ${f}`);
  if (missing.length === 0)
    return { present: true, framework, missing, sentence: "this kernel has the BPF hook for MPTCP packet schedulers (struct_ops mptcp_sched_ops)" };
  const kfuncs = missing.filter((m) => m.startsWith("kfunc ")).map((m) => m.slice("kfunc ".length));
  const lacks = [
    ...(names.structs.has(HOOK_REQUIREMENTS.structOps) ? [] : ["struct_ops mptcp_sched_ops"]),
    ...(kfuncs.length === 0
      ? []
      : [`kfunc${kfuncs.length === 1 ? "" : "s"} ${kfuncs.slice(0, 2).join(", ")}${kfuncs.length > 2 ? ` and ${kfuncs.length - 2} more` : ""}`]),
  ];
  const sentence = !framework
    ? "this kernel lacks MPTCP's packet scheduler framework (struct mptcp_sched_ops), so no scheduler can be attached"
    : `this kernel has MPTCP's scheduler framework but not the BPF hook for it (no ${lacks.join(" and no ")}; the hook is in the MPTCP development tree, multipath-tcp/mptcp_net-next)`;
  return { present: false, framework, missing, sentence };
}

/** Hook detection on a BTF file (default: the running kernel's). */
export function detectSchedulerHookIn(path = VMLINUX_BTF): HookDetection {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    return {
      present: false,
      framework: false,
      missing: [path],
      sentence: `cannot read the kernel's BTF at ${path} (${code ?? String(cause)}); the kernel needs CONFIG_DEBUG_INFO_BTF`,
    };
  }
  return detectSchedulerHook(readBtfNames(bytes));
}
