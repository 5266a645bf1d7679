// BTF files in the shapes the MPTCP development tree's scheduler hook has had, made with
// clang from a few lines of C: what /sys/kernel/btf/vmlinux would say on such a kernel.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { findClang } from "../runtime/bpf/toolchain.js";
import { hasTool } from "./bpf-support.js";

export interface HookShape {
  /** Tag the kfuncs with btf_decl_tag("bpf_kfunc"), as kernels since 6.8 do. */
  tag?: boolean;
  /** Declare the struct_ops value type (the hook); without it, the framework alone. */
  structOps?: boolean;
  /** The scheduling members of struct mptcp_sched_ops. */
  ops?: string;
  /** The second parameter of bpf_iter_mptcp_subflow_new. */
  iterSock?: string;
}

export const CURRENT_OPS = "int (*get_send)(struct mptcp_sock *msk);\n  int (*get_retrans)(struct mptcp_sock *msk);";

export const hookC = ({ tag = true, structOps = true, ops = CURRENT_OPS, iterSock = "struct sock *sk" }: HookShape): string => `
#define KFUNC ${tag ? '__attribute__((btf_decl_tag("bpf_kfunc")))' : ""}
struct sock { int x; };
struct mptcp_sock { int y; };
struct mptcp_subflow_context { int z; };
struct mptcp_sched_data { unsigned char subflows; };
struct bpf_iter_mptcp_subflow { unsigned long long opaque[2]; };
struct mptcp_sched_ops {
  ${ops}
  char name[16];
  void *owner;
  void (*init)(struct mptcp_sock *msk);
  void (*release)(struct mptcp_sock *msk);
};
${structOps ? "struct bpf_struct_ops_mptcp_sched_ops { int common; struct mptcp_sched_ops data; };\nstruct bpf_struct_ops_mptcp_sched_ops value;" : "struct mptcp_sched_ops ops;"}
KFUNC int bpf_iter_mptcp_subflow_new(struct bpf_iter_mptcp_subflow *it, ${iterSock}) { return 0; }
KFUNC struct mptcp_subflow_context *bpf_iter_mptcp_subflow_next(struct bpf_iter_mptcp_subflow *it) { return 0; }
KFUNC void bpf_iter_mptcp_subflow_destroy(struct bpf_iter_mptcp_subflow *it) { }
KFUNC struct sock *bpf_mptcp_subflow_tcp_sock(const struct mptcp_subflow_context *s) { return 0; }
KFUNC _Bool mptcp_subflow_active(struct mptcp_subflow_context *s) { return 1; }
KFUNC void mptcp_subflow_set_scheduled(struct mptcp_subflow_context *s, _Bool on) { }
KFUNC _Bool bpf_sk_stream_memory_free(const struct sock *sk) { return 1; }
int other(void) { return 0; }
`;

/** A raw BTF file (what /sys/kernel/btf/vmlinux holds) from a C file, via clang -g. */
export function hookBtf(dir: string, name: string, source: string): string {
  const c = join(dir, `${name}.c`);
  const o = join(dir, `${name}.o`);
  const btf = join(dir, `${name}.btf`);
  writeFileSync(c, source);
  const clang = spawnSync(findClang(), ["-g", "-O2", "-target", "bpf", "-c", c, "-o", o], { encoding: "utf8" });
  if (clang.status !== 0) throw new Error(clang.stderr);
  const objcopy = ["llvm-objcopy-19", "llvm-objcopy"].find(hasTool) ?? "llvm-objcopy";
  const dump = spawnSync(objcopy, ["--dump-section", `.BTF=${btf}`, o], { encoding: "utf8" });
  if (dump.status !== 0) throw new Error(dump.stderr);
  return btf;
}
