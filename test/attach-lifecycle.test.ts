// The attach lifecycle: which names a policy registers and which the kernel already has
// from someone else (pure), and, where the kernel has the BPF scheduler hook (the MPTCP
// development tree, e.g. in a VM), the real thing: attach after a crash replaces what
// the crashed attach left registered (EEXIST before), a registration that fails midway
// leaves none of the object's registered, and detach leaves nothing behind. This
// kernel (6.18) lacks the hook: those tests skip, saying so; scheduler-cli.test.ts
// covers the refusal on this kernel (nothing left behind, net.mptcp.scheduler kept).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { PolicyModel } from "../compiler/model.js";
import { compilePolicy } from "../compiler/pipeline.js";
import { attachPolicy, detachPolicy, IFACE_MAP_PIN, PIN_DIR, SCHEDULER_SYSCTL } from "../runtime/bpf/attach.js";
import { attachObject, detachPinned } from "../runtime/bpf/helper.js";
import { detectSchedulerHookIn } from "../runtime/bpf/hook.js";
import { conflictSentence, registeredNames, registrationConflicts } from "../runtime/bpf/registrations.js";
import { buildPolicy } from "../runtime/bpf/toolchain.js";
import { bpfUnavailable } from "./bpf-support.js";

function policy(text: string): PolicyModel {
  const { model, diagnostics } = compilePolicy([{ name: "lifecycle.policy", text }]);
  if (!model) throw new Error(diagnostics.map((d) => d.message).join("\n"));
  return model;
}

describe("which names attach registers, and which it may replace", () => {
  it("each block's name, and the dispatcher's when there are several or a for", () => {
    expect(registeredNames(policy("scheduler one { use any }"))).toEqual(["one"]);
    expect(registeredNames(policy("scheduler a for remote port 1 { use any }\nscheduler b { use any }"))).toEqual(["a", "b", "mptcp_policy"]);
  });

  it("a name the kernel lists is a conflict unless an earlier attach of ours registered it (regression: EEXIST after a crash)", () => {
    const available = ["default", "bpf_burst", "voip", "mptcp_policy"];
    expect(registrationConflicts(["voip", "mptcp_policy"], available, ["voip", "mptcp_policy"])).toEqual([]);
    expect(registrationConflicts(["bpf_burst", "voip", "web"], available, ["voip"])).toEqual(["bpf_burst"]);
    expect(conflictSentence(["bpf_burst"])).toBe(
      "cannot attach: a scheduler named 'bpf_burst' is already registered with the kernel, not by mptcp-policy (net.mptcp.available_schedulers lists it); unregister it (bpftool struct_ops show, then unregister id ID) or rename the policy's scheduler",
    );
  });
});

const hook = detectSchedulerHookIn();
const noHook = bpfUnavailable() || (hook.present ? false : `this kernel has no BPF scheduler hook: ${hook.sentence}`);

describe.skipIf(noHook)("attach and detach where the kernel has the hook", () => {
  const dirs: string[] = [];
  afterAll(() => {
    detachPolicy();
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  });
  const available = () => readFileSync("/proc/sys/net/mptcp/available_schedulers", "utf8").trim().split(/\s+/);
  const build = (model: PolicyModel) => {
    const dir = mkdtempSync(join(tmpdir(), "mptcp-policy-lifecycle-"));
    dirs.push(dir);
    return buildPolicy(model, dir).structOps;
  };
  const model = policy('interface eth = "eth*"\nscheduler lc_a for remote port 1 {\n  use where iface eth\n  use any\n}\nscheduler lc_b { use any }\n');

  it("attach after a crash replaces the registrations the crashed attach left", () => {
    attachObject(build(model), PIN_DIR); // what a CLI killed after registering leaves
    const result = attachPolicy(model);
    expect(result).toMatchObject({ registered: ["lc_a", "lc_b", "mptcp_policy"], selected: "mptcp_policy" });
    expect(result.replaced).toEqual(["lc_a", "lc_b", "mptcp_policy"]);
    expect(available().filter((n) => n.startsWith("lc_"))).toEqual(["lc_a", "lc_b"]);
    expect(attachPolicy(model).replaced).toHaveLength(3); // and again: idempotent
    expect(readFileSync(SCHEDULER_SYSCTL, "utf8").trim()).toBe("mptcp_policy");
  });

  it("detach leaves nothing: registrations, pins, the interface map, the selection", () => {
    attachPolicy(model);
    expect(detachPolicy()).toEqual({ unregistered: ["lc_a", "lc_b", "mptcp_policy"], restored: true });
    expect(available().filter((n) => n.startsWith("lc_") || n === "mptcp_policy")).toEqual([]);
    expect([existsSync(PIN_DIR), existsSync(IFACE_MAP_PIN)]).toEqual([false, false]);
    expect(readFileSync(SCHEDULER_SYSCTL, "utf8").trim()).toBe("default");
    expect(detachPolicy()).toEqual({ unregistered: [], restored: false });
  });

  it("a registration that fails midway leaves none of the object's registered (regression: the first stayed)", () => {
    // 'lc_x' registered by someone else (pinned elsewhere), then an object whose
    // second scheduler has that name: its first must not stay registered.
    const other = mkdtempSync(join("/sys/fs/bpf", "mptcp-policy-test-"));
    try {
      attachObject(build(policy("scheduler lc_x { use any }")), other);
      expect(() => attachObject(build(policy("scheduler lc_w for remote port 1 { use any }\nscheduler lc_x { use any }")), PIN_DIR)).toThrow(
        /registering mpp_ops__lc_x: File exists/,
      );
      expect(available()).not.toContain("lc_w");
      expect(existsSync(PIN_DIR) ? readdirSync(PIN_DIR) : []).toEqual([]);
      expect(() => attachPolicy(policy("scheduler lc_x { use any }"))).toThrow(
        /a scheduler named 'lc_x' is already registered with the kernel, not by mptcp-policy/,
      );
    } finally {
      detachPinned(other);
    }
  });
});
