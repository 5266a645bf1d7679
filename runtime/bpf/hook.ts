// Whether the running kernel has the BPF hook for MPTCP packet schedulers in the shape
// the generated objects are written for, learnt from BTF before anything is loaded.
// Names are not enough: the MPTCP development tree had struct_ops mptcp_sched_ops and
// every kfunc name long before its current interface (until February 2025 the member
// was get_subflow(msk, data), then get_send(msk, data)), and libbpf fails only at load
// time, with a message about BTF members. So the struct's members and the prototypes
// the objects rely on are checked too, and a mismatch is said in one sentence.
import { BtfError, readBtfFile, VMLINUX_BTF, type Btf } from "./btf.js";

/** What the generated schedulers need from the kernel. */
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
    "bpf_sk_stream_memory_free",
  ],
  /** Members of struct mptcp_sched_ops the objects set, with the parameter types they assume. */
  members: [
    { name: "get_send", params: ["struct mptcp_sock *"] },
    { name: "get_retrans", params: ["struct mptcp_sock *"] },
  ],
  /** The scheduler's name: char name[MPTCP_SCHED_NAME_MAX]. */
  nameLength: 16,
  /** kfunc parameters whose type changed in the development tree's history. */
  kfuncParams: [{ kfunc: "bpf_iter_mptcp_subflow_new", index: 1, type: "struct sock *" }],
} as const;

/** Where the interface the objects are written for comes from, for messages. */
const HOOK_ORIGIN = "the MPTCP development tree, multipath-tcp/mptcp_net-next";

export interface HookDetection {
  readonly present: boolean;
  /** The kernel has MPTCP's scheduler framework (struct mptcp_sched_ops). */
  readonly framework: boolean;
  /** What is missing, by BTF name. */
  readonly missing: readonly string[];
  /** What is there in another shape than the objects assume, one phrase each. */
  readonly mismatched: readonly string[];
  /** One sentence for users: what the kernel lacks, or that it has everything. */
  readonly sentence: string;
}

export function detectSchedulerHook(btf: Btf): HookDetection {
  const framework = btf.structs.has(HOOK_REQUIREMENTS.framework);
  const structOps = btf.structs.has(HOOK_REQUIREMENTS.structOps);
  const missing: string[] = [];
  if (!framework) missing.push(`struct ${HOOK_REQUIREMENTS.framework}`);
  if (!structOps) missing.push(`struct ${HOOK_REQUIREMENTS.structOps}`);
  const isKfunc = (f: string) => (btf.kfuncs.size > 0 ? btf.kfuncs.has(f) : btf.funcs.has(f));
  const kfuncs = HOOK_REQUIREMENTS.kfuncs.filter((f) => !isKfunc(f));
  missing.push(...kfuncs.map((f) => `kfunc ${f}`));
  const mismatched = framework ? shapeMismatches(btf) : [];
  const present = missing.length === 0 && mismatched.length === 0;
  return { present, framework, missing, mismatched, sentence: sentence(framework, structOps, kfuncs, mismatched) };
}

function sentence(framework: boolean, structOps: boolean, kfuncs: readonly string[], mismatched: readonly string[]): string {
  if (!framework) return "this kernel lacks MPTCP's packet scheduler framework (struct mptcp_sched_ops), so no scheduler can be attached";
  if (!structOps || kfuncs.length > 0) {
    const lacks = [
      ...(structOps ? [] : ["struct_ops mptcp_sched_ops"]),
      ...(kfuncs.length === 0
        ? []
        : [`kfunc${kfuncs.length === 1 ? "" : "s"} ${kfuncs.slice(0, 2).join(", ")}${kfuncs.length > 2 ? ` and ${kfuncs.length - 2} more` : ""}`]),
    ];
    return `this kernel has MPTCP's scheduler framework but not the BPF hook for it (no ${lacks.join(" and no ")}; the hook is in ${HOOK_ORIGIN})`;
  }
  if (mismatched.length > 0)
    return `this kernel has a BPF hook for MPTCP packet schedulers in another version than mptcp-policy's schedulers are written for (${mismatched.join("; ")}; they need the hook as in ${HOOK_ORIGIN} since February 2025)`;
  return "this kernel has the BPF hook for MPTCP packet schedulers (struct_ops mptcp_sched_ops)";
}

/** The members and prototypes the objects rely on, compared with the kernel's. */
function shapeMismatches(btf: Btf): string[] {
  const problems: string[] = [];
  const opsId = btf.structs.get(HOOK_REQUIREMENTS.framework) as number;
  const members = btf.entries(opsId);
  const signature = (name: string, type: number) =>
    `${name}(${
      btf
        .prototype(type)
        ?.params.map((p) => btf.typeName(p.type))
        .join(", ") ?? "?"
    })`;
  const absent: string[] = [];
  for (const want of HOOK_REQUIREMENTS.members) {
    const wanted = `${want.name}(${want.params.join(", ")})`;
    const member = members.find((m) => m.name === want.name);
    if (!member) absent.push(wanted);
    else if (
      btf
        .prototype(member.type)
        ?.params.map((p) => btf.typeName(p.type))
        .join(", ") !== want.params.join(", ")
    )
      problems.push(`mptcp_sched_ops has ${signature(member.name, member.type)}, not ${wanted}`);
  }
  if (absent.length > 0) {
    // What the kernel has instead, e.g. get_subflow(msk, data) before February 2025.
    const known = new Set<string>([...HOOK_REQUIREMENTS.members.map((m) => m.name), "init", "release"]);
    const instead = members.filter((m) => !known.has(m.name) && btf.prototype(m.type) !== undefined).map((m) => signature(m.name, m.type));
    problems.unshift(`mptcp_sched_ops has ${instead.length > 0 ? `${instead.join(" and ")} but ` : ""}no ${absent.join(" and no ")}`);
  }
  const name = members.find((m) => m.name === "name");
  if (!name || btf.arrayLength(name.type) !== HOOK_REQUIREMENTS.nameLength)
    problems.push(`mptcp_sched_ops has ${name ? btf.typeName(name.type) : "no"} name, not char [${HOOK_REQUIREMENTS.nameLength}]`);
  for (const want of HOOK_REQUIREMENTS.kfuncParams) {
    const id = btf.funcs.get(want.kfunc);
    if (id === undefined) continue; // reported as missing
    const param = btf.prototype(id)?.params[want.index];
    const type = param ? btf.typeName(param.type) : "nothing";
    if (type !== want.type) problems.push(`${want.kfunc} takes ${type} as argument ${want.index + 1}, not ${want.type}`);
  }
  return problems;
}

/** Hook detection on a BTF file (default: the running kernel's). */
export function detectSchedulerHookIn(path = VMLINUX_BTF): HookDetection {
  let btf: Btf;
  try {
    btf = readBtfFile(path);
  } catch (cause) {
    const reason = cause instanceof BtfError ? cause.message : ((cause as NodeJS.ErrnoException).code ?? String(cause));
    const hint = cause instanceof BtfError ? "" : "; the kernel needs CONFIG_DEBUG_INFO_BTF";
    return { present: false, framework: false, missing: [path], mismatched: [], sentence: `cannot read the kernel's BTF at ${path} (${reason})${hint}` };
  }
  return detectSchedulerHook(btf);
}
