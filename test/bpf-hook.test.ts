// Hook detection from BTF, both ways: the running kernel's BTF (6.18 has MPTCP's
// scheduler framework, with get_send(msk), but not the BPF hook), and small BTF files
// made with clang in the shapes the MPTCP development tree has had: the current one
// (present), get_subflow(msk, data) before February 2025, get_send(msk, data) for a
// while after it, and the subflow iterator taking the mptcp_sock; with and without the
// "bpf_kfunc" tags, and the framework alone.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BtfError, readBtf, readBtfFile, readBtfNames, VMLINUX_BTF } from "../runtime/bpf/btf.js";
import { detectSchedulerHook, detectSchedulerHookIn, HOOK_REQUIREMENTS } from "../runtime/bpf/hook.js";
import { clangUnavailable } from "./bpf-support.js";
import { hookBtf, hookC } from "./hook-btf.js";

const dir = mkdtempSync(join(tmpdir(), "mptcp-policy-btf-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A valid BTF blob with no types at all. */
function emptyBtf(): Uint8Array {
  const bytes = new Uint8Array(25);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, 0xeb9f, true);
  view.setUint8(2, 1);
  view.setUint32(4, 24, true);
  view.setUint32(20, 1, true); // string section: one NUL
  return bytes;
}

describe.skipIf(clangUnavailable())("BPF scheduler hook detection from BTF", () => {
  it("finds the hook in the current shape: get_send(msk), get_retrans(msk), the tagged kfuncs", () => {
    const detection = detectSchedulerHookIn(hookBtf(dir, "current", hookC({})));
    expect(detection).toMatchObject({ present: true, framework: true, missing: [], mismatched: [] });
  });

  it("counts plain functions as kfuncs when the BTF has no bpf_kfunc tags at all", () => {
    expect(detectSchedulerHookIn(hookBtf(dir, "untagged", hookC({ tag: false }))).present).toBe(true);
  });

  it("development tree before February 2025 (regression: every name is there, the member is get_subflow(msk, data))", () => {
    const ops = "int (*get_subflow)(struct mptcp_sock *msk, struct mptcp_sched_data *data);";
    const detection = detectSchedulerHookIn(hookBtf(dir, "get-subflow", hookC({ ops })));
    expect(detection).toMatchObject({ present: false, framework: true, missing: [] });
    expect(detection.mismatched).toEqual([
      "mptcp_sched_ops has get_subflow(struct mptcp_sock *, struct mptcp_sched_data *) but no get_send(struct mptcp_sock *) and no get_retrans(struct mptcp_sock *)",
    ]);
    expect(detection.sentence).toBe(
      "this kernel has a BPF hook for MPTCP packet schedulers in another version than mptcp-policy's schedulers are written for (mptcp_sched_ops has get_subflow(struct mptcp_sock *, struct mptcp_sched_data *) but no get_send(struct mptcp_sock *) and no get_retrans(struct mptcp_sock *); they need the hook as in the MPTCP development tree, multipath-tcp/mptcp_net-next since February 2025)",
    );
  });

  it("get_send and get_retrans with the mptcp_sched_data argument: the arity is checked, not only the name", () => {
    const ops =
      "int (*get_send)(struct mptcp_sock *msk, struct mptcp_sched_data *data);\n  int (*get_retrans)(struct mptcp_sock *msk, struct mptcp_sched_data *data);";
    const detection = detectSchedulerHookIn(hookBtf(dir, "two-args", hookC({ ops })));
    expect(detection.present).toBe(false);
    expect(detection.mismatched).toEqual([
      "mptcp_sched_ops has get_send(struct mptcp_sock *, struct mptcp_sched_data *), not get_send(struct mptcp_sock *)",
      "mptcp_sched_ops has get_retrans(struct mptcp_sock *, struct mptcp_sched_data *), not get_retrans(struct mptcp_sock *)",
    ]);
  });

  it("the subflow iterator taking the mptcp_sock, as it once did", () => {
    const detection = detectSchedulerHookIn(hookBtf(dir, "iter-msk", hookC({ iterSock: "struct mptcp_sock *msk" })));
    expect(detection.present).toBe(false);
    expect(detection.mismatched).toEqual(["bpf_iter_mptcp_subflow_new takes struct mptcp_sock * as argument 2, not struct sock *"]);
  });

  it("without the struct_ops value type: framework only, and the sentence says what is missing", () => {
    const detection = detectSchedulerHookIn(hookBtf(dir, "framework-only", hookC({ structOps: false })));
    expect(detection).toMatchObject({ present: false, framework: true, missing: ["struct bpf_struct_ops_mptcp_sched_ops"] });
    expect(detection.sentence).toContain("no struct_ops mptcp_sched_ops");
  });

  it("reads names, kinds, kfunc tags, members and prototypes", () => {
    const bytes = readFileSync(hookBtf(dir, "names", hookC({})));
    const names = readBtfNames(bytes);
    expect(names.structs.has("mptcp_sched_ops")).toBe(true);
    expect(names.funcs.has("other")).toBe(true);
    expect(names.kfuncs.has("other")).toBe(false);
    expect(names.kfuncs.has("mptcp_subflow_set_scheduled")).toBe(true);
    const btf = readBtf(bytes);
    const members = btf.entries(btf.structs.get("mptcp_sched_ops") as number);
    expect(members.map((m) => m.name)).toEqual(["get_send", "get_retrans", "name", "owner", "init", "release"]);
    expect(members.map((m) => btf.typeName(m.type))).toEqual([
      "int (struct mptcp_sock *) *",
      "int (struct mptcp_sock *) *",
      "char [16]",
      "void *",
      "void (struct mptcp_sock *) *",
      "void (struct mptcp_sock *) *",
    ]);
    const free = btf.prototype(btf.funcs.get("bpf_sk_stream_memory_free") as number);
    expect(free?.params.map((p) => [p.name, btf.typeName(p.type)])).toEqual([["sk", "const struct sock *"]]);
  });
});

describe("BTF reading without clang", () => {
  it.skipIf(!existsSync(VMLINUX_BTF))("this kernel (6.18): MPTCP's scheduler framework with get_send(msk), not the BPF hook", () => {
    const detection = detectSchedulerHookIn();
    expect(detection.present).toBe(false);
    expect(detection.framework).toBe(true);
    expect(detection.missing).toContain("struct bpf_struct_ops_mptcp_sched_ops");
    // Mainline has had the development tree's member shape since 6.16: the member check passes.
    expect(detection.mismatched).toEqual([]);
    const btf = readBtfFile();
    const ops = btf.entries(btf.structs.get("mptcp_sched_ops") as number);
    expect(ops.filter((m) => m.name.startsWith("get_")).map((m) => `${m.name}: ${btf.typeName(m.type)}`)).toEqual([
      "get_send: int (struct mptcp_sock *) *",
      "get_retrans: int (struct mptcp_sock *) *",
    ]);
    expect(detection.sentence).toMatch(
      /^this kernel has MPTCP's scheduler framework but not the BPF hook for it \(no struct_ops mptcp_sched_ops and no kfuncs bpf_iter_mptcp_subflow_new, bpf_iter_mptcp_subflow_next and 5 more; the hook is in the MPTCP development tree/,
    );
  });

  it("rejects what is not BTF, and says when the file is missing or is not BTF", () => {
    expect(() => readBtfNames(new Uint8Array(64))).toThrow(BtfError);
    expect(detectSchedulerHookIn(join(dir, "missing.btf"))).toMatchObject({
      present: false,
      sentence: `cannot read the kernel's BTF at ${join(dir, "missing.btf")} (ENOENT); the kernel needs CONFIG_DEBUG_INFO_BTF`,
    });
    writeFileSync(join(dir, "zeros.btf"), new Uint8Array(64));
    expect(detectSchedulerHookIn(join(dir, "zeros.btf")).sentence).toBe(`cannot read the kernel's BTF at ${join(dir, "zeros.btf")} (not BTF (bad magic))`);
  });

  it("knows the requirements by name", () => {
    const none = detectSchedulerHook(readBtf(emptyBtf()));
    expect(none.framework).toBe(false);
    expect(none.missing).toEqual(["struct mptcp_sched_ops", "struct bpf_struct_ops_mptcp_sched_ops", ...HOOK_REQUIREMENTS.kfuncs.map((f) => `kfunc ${f}`)]);
    expect(none.sentence).toContain("lacks MPTCP's packet scheduler framework");
  });
});
