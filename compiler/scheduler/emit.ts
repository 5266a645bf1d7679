// The `bpf` back end: the checked model → the files of one BPF object (readable
// generated C plus the hand-written headers it includes). A pure function; writing
// the files and running clang happen in runtime/bpf/.
//
//   sched_core.h             generated: the decision core (c-core.ts)
//   sched.bpf.c              generated: the struct_ops wrapper, one scheduler per block
//                            and, when the policy has several or a `for`, the dispatcher
//   mptcp_policy*.h, mptcp_policy_test.bpf.c   hand-written (c-headers.ts)
import type { PolicyModel } from "../model.js";
import { HAND_WRITTEN_FILES } from "./c-headers.js";
import { SCHEDULER_NAME_MAX } from "../../language/vocabulary.js";
import { banner, BpfGenerationError, commentText, generateCore } from "./c-core.js";
import { describeScheduler, shortRef } from "./describe.js";
import { classifySchedulers, describeFallbacks } from "./fallback.js";

/** The scheduler name of the dispatcher: the policy's choice of scheduler by `for`. */
export const DISPATCHER_NAME = "mptcp_policy";
/** Scheduler names the kernel or this back end already use. */
export const RESERVED_SCHEDULER_NAMES: ReadonlySet<string> = new Set(["default", DISPATCHER_NAME]);

export const CORE_FILE = "sched_core.h";
export const STRUCT_OPS_FILE = "sched.bpf.c";
export const TEST_FILE = "mptcp_policy_test.bpf.c";

export interface EmittedFile {
  readonly name: string;
  readonly text: string;
}

/** Whether the policy needs the dispatcher (several schedulers, or one with `for`). */
export function needsDispatcher(model: PolicyModel): boolean {
  return model.schedulers.length > 1 || model.schedulers.some((s) => s.selector !== undefined);
}

/** The scheduler `attach` selects for the network namespace; undefined: no scheduler. */
export function selectedScheduler(model: PolicyModel): string | undefined {
  if (model.schedulers.length === 0) return undefined;
  return needsDispatcher(model) ? DISPATCHER_NAME : model.schedulers[0]?.name;
}

/** Problems that stop the object from registering with the kernel, one sentence each. */
export function schedulerNameProblems(model: PolicyModel): string[] {
  return model.schedulers
    .filter((s) => RESERVED_SCHEDULER_NAMES.has(s.name))
    .map((s) =>
      s.name === DISPATCHER_NAME
        ? `${shortRef(s.at)}: scheduler name '${s.name}' is used by mptcp-policy for the policy's dispatcher; rename the scheduler`
        : `${shortRef(s.at)}: scheduler name '${s.name}' is taken by the kernel's built-in scheduler; rename the scheduler`,
    );
}

export function emitBpf(model: PolicyModel): EmittedFile[] {
  return [{ name: CORE_FILE, text: generateCore(model) }, { name: STRUCT_OPS_FILE, text: generateStructOps(model) }, ...HAND_WRITTEN_FILES];
}

/**
 * The C names of one struct_ops scheduler: its map variable and its two programs. Every
 * C identifier made from a policy name is a fixed prefix followed by the name, so no
 * name can clash with C, libc, libbpf or our headers (`main`, `int`, `printf`), and as
 * the prefixes differ and names are unique, so do the identifiers. The dispatcher's
 * names have no `__` after the prefix, so no scheduler's can equal them.
 */
export interface StructOpsNames {
  readonly variable: string;
  readonly send: string;
  readonly retrans: string;
}

const OPS_PREFIX = "mpp_ops__";
const DISPATCHER_VARIABLE = "mpp_ops_policy";

export function structOpsNames(name: string): StructOpsNames {
  if (name === DISPATCHER_NAME) return { variable: DISPATCHER_VARIABLE, send: "mpp_send_policy", retrans: "mpp_retrans_policy" };
  return { variable: `${OPS_PREFIX}${name}`, send: `mpp_send__${name}`, retrans: `mpp_retrans__${name}` };
}

/** The scheduler name back from a struct_ops variable (a pinned map's name); undefined: not ours. */
export function schedulerOfStructOps(variable: string): string | undefined {
  if (variable === DISPATCHER_VARIABLE) return DISPATCHER_NAME;
  return variable.startsWith(OPS_PREFIX) && variable.length > OPS_PREFIX.length ? variable.slice(OPS_PREFIX.length) : undefined;
}

/**
 * A scheduler name as the C string the kernel reads into `char name[16]`
 * (MPTCP_SCHED_NAME_MAX, NUL included): data, so only the checker's identifier
 * characters are let through, and at most 15 of them.
 */
export function kernelNameLiteral(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name) || name.length > SCHEDULER_NAME_MAX)
    throw new BpfGenerationError(`scheduler name '${name}' cannot be a kernel scheduler name (at most ${SCHEDULER_NAME_MAX} of a-z, 0-9, '_')`);
  return `"${name}"`;
}

export function generateStructOps(model: PolicyModel): string {
  const out: string[] = [banner(model, "one BPF MPTCP packet scheduler (struct_ops mptcp_sched_ops) per scheduler block")];
  const fallbacks = describeFallbacks(classifySchedulers(model));
  if (fallbacks.length > 0) {
    out.push("/*\n * Where the kernel lacks the BPF scheduler hook, the path manager approximates:");
    for (const line of fallbacks) out.push(...wrapComment(line));
    out.push(" */\n");
  }
  out.push(`#include "mptcp_policy_types.h"\n#include "${CORE_FILE}"\n#include "mptcp_policy_kernel.h"\n\nchar _license[] SEC("license") = "GPL";\n`);
  for (const problem of schedulerNameProblems(model)) out.push(`#error "${problem.replace(/["\\]/g, "")}"\n`);
  model.schedulers.forEach((s, i) => out.push(structOps(`/* ${shortRef(s.at)}: ${commentText(describeScheduler(s))} */`, s.name, i)));
  if (needsDispatcher(model)) {
    out.push(structOps("/* The policy: the first scheduler whose 'for' matches serves the connection; none: kernel-like. */", DISPATCHER_NAME, -1));
  }
  return out.join("\n");
}

function structOps(comment: string, name: string, index: number): string {
  const { variable, send, retrans } = structOpsNames(name);
  return `${comment}
SEC("struct_ops/${send}")
int BPF_PROG(${send}, struct mptcp_sock *msk)
{
	return mpp_get_send(msk, ${index});
}

SEC("struct_ops/${retrans}")
int BPF_PROG(${retrans}, struct mptcp_sock *msk)
{
	return mpp_get_retrans(msk, ${index});
}

SEC(".struct_ops")
struct mptcp_sched_ops ${variable} = {
	.get_send = (void *)${send},
	.get_retrans = (void *)${retrans},
	.name = ${kernelNameLiteral(name)},
};
`;
}

function wrapComment(text: string): string[] {
  const words = commentText(text).split(" ");
  const lines: string[] = [];
  let line = " *";
  for (const word of words) {
    if (line.length + word.length + 1 > 88 && line !== " *") {
      lines.push(line);
      line = " *  ";
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines;
}
