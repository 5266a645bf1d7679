// Hook detection from BTF, both ways: the running kernel's BTF (6.18 has MPTCP's
// scheduler framework but not the BPF hook), and a small BTF file made with clang that
// has the hook's types and kfuncs, with and without the "bpf_kfunc" tags.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BtfError, detectSchedulerHook, detectSchedulerHookIn, readBtfNames, VMLINUX_BTF } from "../runtime/bpf/btf.js";
import { findClang } from "../runtime/bpf/toolchain.js";
import { clangUnavailable, hasTool } from "./bpf-support.js";

const dir = mkdtempSync(join(tmpdir(), "mptcp-policy-btf-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HOOK_C = (tag: boolean, withStructOps: boolean) => `
#define KFUNC ${tag ? '__attribute__((btf_decl_tag("bpf_kfunc")))' : ""}
struct sock { int x; };
struct mptcp_sock { int y; };
struct mptcp_subflow_context { int z; };
struct bpf_iter_mptcp_subflow { unsigned long long opaque[2]; };
struct mptcp_sched_ops { int (*get_send)(struct mptcp_sock *); char name[16]; };
${withStructOps ? "struct bpf_struct_ops_mptcp_sched_ops { int common; struct mptcp_sched_ops data; };\nstruct bpf_struct_ops_mptcp_sched_ops value;" : "struct mptcp_sched_ops ops;"}
KFUNC int bpf_iter_mptcp_subflow_new(struct bpf_iter_mptcp_subflow *it, struct sock *sk) { return 0; }
KFUNC struct mptcp_subflow_context *bpf_iter_mptcp_subflow_next(struct bpf_iter_mptcp_subflow *it) { return 0; }
KFUNC void bpf_iter_mptcp_subflow_destroy(struct bpf_iter_mptcp_subflow *it) { }
KFUNC struct sock *bpf_mptcp_subflow_tcp_sock(const struct mptcp_subflow_context *s) { return 0; }
KFUNC _Bool mptcp_subflow_active(struct mptcp_subflow_context *s) { return 1; }
KFUNC void mptcp_subflow_set_scheduled(struct mptcp_subflow_context *s, _Bool on) { }
int other(void) { return 0; }
`;

/** A raw BTF file (what /sys/kernel/btf/vmlinux holds) from a C file, via clang -g. */
function btfFile(name: string, source: string): string {
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

describe.skipIf(clangUnavailable())("BPF scheduler hook detection from BTF", () => {
  it("finds the hook in a BTF file that has the struct_ops type and the tagged kfuncs", () => {
    const detection = detectSchedulerHookIn(btfFile("with-hook", HOOK_C(true, true)));
    expect(detection).toMatchObject({ present: true, framework: true, missing: [] });
  });

  it("counts plain functions as kfuncs when the BTF has no bpf_kfunc tags at all", () => {
    expect(detectSchedulerHookIn(btfFile("untagged", HOOK_C(false, true))).present).toBe(true);
  });

  it("without the struct_ops value type: framework only, and the sentence says what is missing", () => {
    const detection = detectSchedulerHookIn(btfFile("framework-only", HOOK_C(true, false)));
    expect(detection).toMatchObject({ present: false, framework: true, missing: ["struct bpf_struct_ops_mptcp_sched_ops"] });
    expect(detection.sentence).toContain("no struct_ops mptcp_sched_ops");
  });

  it("reads names, kinds and kfunc tags", () => {
    const names = readBtfNames(readFileSync(btfFile("names", HOOK_C(true, true))));
    expect(names.structs.has("mptcp_sched_ops")).toBe(true);
    expect(names.funcs.has("other")).toBe(true);
    expect(names.kfuncs.has("other")).toBe(false);
    expect(names.kfuncs.has("mptcp_subflow_set_scheduled")).toBe(true);
  });
});

describe("BTF reading without clang", () => {
  it.skipIf(!existsSync(VMLINUX_BTF))("this kernel (6.18): MPTCP's scheduler framework, not the BPF hook", () => {
    const detection = detectSchedulerHookIn();
    expect(detection.present).toBe(false);
    expect(detection.framework).toBe(true);
    expect(detection.missing).toContain("struct bpf_struct_ops_mptcp_sched_ops");
    expect(detection.sentence).toMatch(
      /^this kernel has MPTCP's scheduler framework but not the BPF hook for it \(no struct_ops mptcp_sched_ops and no kfuncs bpf_iter_mptcp_subflow_new, bpf_iter_mptcp_subflow_next and 4 more; the hook is in the MPTCP development tree/,
    );
  });

  it("rejects what is not BTF, and says when the file is missing", () => {
    expect(() => readBtfNames(new Uint8Array(64))).toThrow(BtfError);
    expect(detectSchedulerHookIn(join(dir, "missing.btf"))).toMatchObject({
      present: false,
      sentence: expect.stringContaining("cannot read the kernel's BTF"),
    });
  });

  it("knows the requirements by name", () => {
    const none = detectSchedulerHook({ structs: new Set(), funcs: new Set(), kfuncs: new Set() });
    expect(none.framework).toBe(false);
    expect(none.sentence).toContain("lacks MPTCP's packet scheduler framework");
  });
});
