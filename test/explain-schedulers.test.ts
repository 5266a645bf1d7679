// `explain` on scheduler blocks: what `run` does with each one, on a kernel with the
// BPF scheduler hook, without it, and when the caller does not know the kernel.
import { release } from "node:os";
import { describe, expect, it } from "vitest";
import { explainPolicy, type KernelDescription } from "../compiler/explain.js";
import type { PolicyModel } from "../compiler/model.js";
import { compilePolicy } from "../compiler/pipeline.js";
import { REDUNDANT_WITH_HOOK } from "../language/vocabulary.js";
import { detectSchedulerHookIn } from "../runtime/bpf/hook.js";
import { runCli } from "./helpers.js";

function model(text: string): PolicyModel {
  const result = compilePolicy([{ name: "p.policy", text }]);
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return result.model as PolicyModel;
}

const INTERFACES = `interface wifi = "wlan0"\ninterface lte = "wwan0"\n`;
// A rule that acts per connection: the userspace path manager, which the approximation needs.
const PER_CONNECTION = "on established then create via lte\n";
const PREFER_WIFI = "scheduler prefer_wifi {\n  use where iface wifi and rtt < 150ms\n  use any\n}\n";
const VOIP = "scheduler voip for remote port 5060 {\n  redundant where active\n  use any\n}\n";

const WITH_HOOK: KernelDescription = { bpfSchedulerHook: true, detail: "Linux 6.99-test; this kernel has the BPF hook for MPTCP packet schedulers" };
const WITHOUT_HOOK: KernelDescription = {
  bpfSchedulerHook: false,
  detail: "Linux 6.18-test; this kernel has MPTCP's scheduler framework but not the BPF hook for it.",
};

function explain(text: string, kernel?: KernelDescription, schedulerFallback?: "approximate" | "off"): string[] {
  const m = model(text);
  return explainPolicy(m, undefined, { kernel, schedulerFallback }).trimEnd().split("\n");
}

/** The line after the one that introduces scheduler NAME. */
function fate(lines: readonly string[], name: string, offset = 1): string | undefined {
  const at = lines.findIndex((l) => l.includes(`scheduler ${name} serves`));
  return at < 0 ? undefined : lines[at + offset];
}

describe("explain: schedulers on a kernel with the BPF hook", () => {
  it("says a single block is attached and selected", () => {
    const lines = explain(INTERFACES + PER_CONNECTION + PREFER_WIFI, WITH_HOOK);
    expect(lines).toContain("Kernel: Linux 6.99-test; this kernel has the BPF hook for MPTCP packet schedulers.");
    expect(lines).toContain("p.policy:4: scheduler prefer_wifi serves every other connection.");
    expect(fate(lines, "prefer_wifi")).toBe(
      "  - on this kernel: attached: run registers it as BPF scheduler 'prefer_wifi' and selects it (net.mptcp.scheduler = prefer_wifi).",
    );
    expect(fate(lines, "prefer_wifi", 2)).toBeUndefined();
  });

  it("says several blocks are chosen among by the dispatcher", () => {
    const lines = explain(INTERFACES + PER_CONNECTION + VOIP + PREFER_WIFI, WITH_HOOK);
    expect(fate(lines, "voip")).toMatch(
      /^ {2}- on this kernel: attached: run registers it as BPF scheduler 'voip' and selects 'mptcp_policy' \(net\.mptcp\.scheduler\), which runs it for these connections\. /,
    );
    expect(fate(lines, "prefer_wifi")).toContain("selects 'mptcp_policy'");
  });

  it("says what a redundant step comes to with the hook, in the words the fallback uses", () => {
    const lines = explain(INTERFACES + PER_CONNECTION + VOIP, WITH_HOOK);
    expect(fate(lines, "voip")).toBe(
      "  - on this kernel: attached: run registers it as BPF scheduler 'voip' and selects 'mptcp_policy' (net.mptcp.scheduler), which runs it for these connections. " +
        "'redundant where active': new data goes out once, spread over the matching subflows, and only retransmissions are sent on every match.",
    );
    // One wording: the fallback's text (without the hook) says the same.
    expect(fate(explain(INTERFACES + PER_CONNECTION + VOIP, WITHOUT_HOOK), "voip")).toContain(`(even with the hook, ${REDUNDANT_WITH_HOOK})`);
    expect(fate(lines, "voip")).toContain(`: ${REDUNDANT_WITH_HOOK}.`);
    // A step that is never reached (after `use any`) is not described.
    const unreached = explain(INTERFACES + PER_CONNECTION + "scheduler late {\n  use any\n  redundant\n}\n", WITH_HOOK);
    expect(fate(unreached, "late")).toBe("  - on this kernel: attached: run registers it as BPF scheduler 'late' and selects it (net.mptcp.scheduler = late).");
  });

  it("says a reserved name stops every block from being attached", () => {
    const lines = explain(INTERFACES + "scheduler default {\n  use any\n}\n", WITH_HOOK);
    expect(fate(lines, "default")).toBe(
      "  - on this kernel: not attached, the kernel's default scheduler decides: the policy's schedulers cannot be registered (p.policy:3: scheduler name 'default' is taken by the kernel's built-in scheduler; rename the scheduler).",
    );
  });
});

describe("explain: schedulers on a kernel without the hook", () => {
  it("says what the backup flags approximate and what they lose", () => {
    const lines = explain(INTERFACES + PER_CONNECTION + PREFER_WIFI, WITHOUT_HOOK);
    expect(lines).toContain("Kernel: Linux 6.18-test; this kernel has MPTCP's scheduler framework but not the BPF hook for it.");
    const line = fate(lines, "prefer_wifi") ?? "";
    expect(line).toMatch(/^ {2}- on this kernel: approximated by backup flags from live subflow metrics: the daemon samples the subflows' metrics every --scheduler-interval \(500 ms by default\) and keeps active the subflows the deciding step would send on/);
    expect(line).toContain("; from the start, subflows where iface wifi are active and the others backup.");
    expect(line).toContain("Not followed: per-packet choices: the subflow a 'use' step picks is chosen again every --scheduler-interval (500 ms by default), not for each packet;");
    expect(line).toContain("a backup subflow carries no data, so its metrics are as old as its last data");
  });

  it("says what a redundant step comes to without the hook: its subflows active, each piece of data sent once", () => {
    const lines = explain(INTERFACES + PER_CONNECTION + VOIP, WITHOUT_HOOK);
    expect(fate(lines, "voip")).toMatch(/^ {2}- on this kernel: approximated by backup flags from live subflow metrics: /);
    expect(fate(lines, "voip")).toContain(`Not followed: 'redundant where active': every matching subflow stays active, but the kernel sends each piece of data on one of them (even with the hook, ${REDUNDANT_WITH_HOOK});`);
  });

  it("tells 'use any' and flags-only first steps from approximations that change flags", () => {
    expect(fate(explain("scheduler anyone {\n  use any\n}\n", WITHOUT_HOOK), "anyone")).toBe(
      "  - on this kernel: nothing to approximate: the kernel's default scheduler sends on any usable subflow, as 'use any' allows.",
    );
    // Flags alone mark nothing at once; the live tiers still follow the step.
    const fast = fate(explain(INTERFACES + PER_CONNECTION + "scheduler fast {\n  use where active\n  use any\n}\n", WITHOUT_HOOK), "fast") ?? "";
    expect(fast).toMatch(/^ {2}- on this kernel: approximated by backup flags from live subflow metrics: /);
    expect(fast).not.toContain("from the start");
  });

  it("says the approximation is not applied under the in-kernel path manager", () => {
    const lines = explain(INTERFACES + "endpoint lte subflow\n" + PREFER_WIFI, WITHOUT_HOOK);
    expect(lines[0]).toContain("in-kernel path manager");
    expect(fate(lines, "prefer_wifi")).toBe(
      "  - on this kernel: not approximated, the kernel's default scheduler decides: the approximation marks subflows backup per connection, which needs the userspace path manager, and this policy uses the in-kernel one.",
    );
  });

  it("says nothing is approximated with --scheduler-fallback=off", () => {
    const lines = explain(INTERFACES + PER_CONNECTION + PREFER_WIFI, WITHOUT_HOOK, "off");
    expect(fate(lines, "prefer_wifi")).toBe(
      "  - on this kernel: not approximated, the kernel's default scheduler decides: --scheduler-fallback=off leaves the backup flags to the rules.",
    );
  });
});

describe("explain: schedulers without knowing the kernel (the playground)", () => {
  it("says what happens with the hook and without it", () => {
    const lines = explain(INTERFACES + PER_CONNECTION + PREFER_WIFI);
    expect(lines.some((l) => l.startsWith("Kernel:"))).toBe(false);
    expect(fate(lines, "prefer_wifi")).toBe(
      "  - with the BPF scheduler hook (MPTCP development tree): attached: run registers it as BPF scheduler 'prefer_wifi' and selects it (net.mptcp.scheduler = prefer_wifi).",
    );
    expect(fate(lines, "prefer_wifi", 2)).toMatch(
      /^ {2}- without it \(mainline kernels\): approximated by backup flags from live subflow metrics: .*; from the start, subflows where iface wifi are active/,
    );
  });

  it("says nothing about schedulers when there are none", () => {
    expect(explain(INTERFACES + PER_CONNECTION).some((l) => l.startsWith("Schedulers") || l.startsWith("Kernel"))).toBe(false);
  });
});

describe("mptcp-policy explain on this host", () => {
  // Linux 6.18 here: no hook, so "approximated"; a kernel with the hook says "attached".
  const hook = detectSchedulerHookIn();

  it("probes the running kernel and says what run does with each scheduler", () => {
    const result = runCli(["explain", "examples/laptop-wifi-lte"]);
    expect(result).toMatchObject({ status: 0, stderr: "" });
    const lines = result.stdout.split("\n");
    expect(lines.find((l) => l.startsWith("Kernel: "))).toMatch(new RegExp(`^Kernel: Linux ${release().replace(/\W/g, "\\$&")}; this kernel .*BPF hook`));
    const preferWifi = fate(lines, "prefer_wifi");
    if (hook.present) expect(preferWifi).toContain("  - on this kernel: attached: run registers it as BPF scheduler 'prefer_wifi'");
    else expect(preferWifi).toMatch(/^ {2}- on this kernel: approximated by backup flags from live subflow metrics: .*; from the start, subflows where iface wifi are active/);
  });

  it("mirrors run's --scheduler-fallback", () => {
    const off = runCli(["explain", "--scheduler-fallback", "off", "examples/laptop-wifi-lte"]);
    expect(off.status).toBe(0);
    if (!hook.present) expect(fate(off.stdout.split("\n"), "prefer_wifi")).toContain("--scheduler-fallback=off leaves the backup flags to the rules");
    expect(runCli(["explain", "--scheduler-fallback", "sometimes", "examples/laptop-wifi-lte"])).toMatchObject({
      status: 2,
      stderr: "mptcp-policy: --scheduler-fallback must be 'approximate' or 'off'\n",
    });
  });
});
