// The kernel feature probe (runtime/kernel/features.ts) against what the kernel does:
// the sysctls that exist, listener events that arrive or do not, an endpoint flag kept
// or dropped, and, in the kernel lab, the facts written down for each Debian kernel.
import { readdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canRunLab, EventLog, sleep } from "./lab/events.js";
import { Lab } from "./lab/topology.js";
import { labKernel } from "./kernel-expectations.js";
import { FEATURE_NAMES, probeKernelFeatures, type KernelFeatures } from "../runtime/kernel/features.js";
import { MptcpPathManager } from "../runtime/netlink/index.js";
import { CLI } from "./helpers.js";
import { spawnSync } from "node:child_process";

describe.skipIf(!canRunLab())("kernel features, probed", () => {
  let lab: Lab;
  let probed: KernelFeatures;

  beforeAll(async () => {
    lab = await Lab.create();
    const pm = await MptcpPathManager.open({ netns: lab.client });
    try {
      probed = await probeKernelFeatures({ netns: lab.client, pathManager: pm });
      // The probe leaves no endpoint behind.
      expect(await pm.listEndpoints()).toEqual([]);
    } finally {
      pm.close();
    }
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it("the path manager switch is the sysctl this kernel has", () => {
    const sysctls = readdirSync("/proc/sys/net/mptcp");
    const expected = sysctls.includes("path_manager") ? "path_manager" : "pm_type";
    expect(probed.features.path_manager_switch).toMatchObject({ available: true, value: expected });
    expect(probed.features.scheduler_sysctl.available).toBe(sysctls.includes("scheduler"));
  });

  it("listener events: sent when the probe says so, and only then", async () => {
    const log = await EventLog.start({ netns: lab.server, interfaces: false });
    try {
      const server = await lab.startServer({ port: 5123 });
      if (probed.features.listener_events.available) {
        await log.waitForEvent("listener_created", { sport: 5123 });
      } else {
        // Something else must arrive, so that silence means "not sent", not "not yet".
        const client = await lab.connect({ to: lab.address("server", "wifi"), port: server.port });
        await log.waitForEvent("established");
        await sleep(200);
        expect(log.events.filter((e) => e.event.startsWith("listener_"))).toEqual([]);
        await client.stop();
      }
    } finally {
      log.close();
    }
  });

  it("every feature has an answer, and each answer says how it was found", () => {
    for (const name of FEATURE_NAMES) {
      expect(probed.features[name].available, name).not.toBeNull();
      expect(probed.features[name].how.length, name).toBeGreaterThan(5);
    }
  });

  it.runIf(labKernel() !== undefined)("the lab kernel has exactly the features written down for it (test/kernel-expectations.ts)", () => {
    const expected = labKernel()!.features;
    const actual = Object.fromEntries(
      Object.keys(expected).map((name) => {
        const f = probed.features[name as keyof typeof expected & keyof typeof probed.features];
        return [name, typeof f.value === "number" || (typeof f.value === "string" && name === "path_manager_switch") ? f.value : f.available];
      }),
    );
    expect(actual).toEqual(expected);
  });

  it("status says the same in text and JSON, with the path manager's sysctl", () => {
    const run = (format: string) => spawnSync("ip", ["netns", "exec", lab.client, process.execPath, CLI, "status", "--format", format], { encoding: "utf8" });
    const json = JSON.parse(run("json").stdout) as Record<string, unknown> & { kernel_features: Record<string, { available: boolean | null }> };
    expect(json["path_manager_sysctl"]).toBe(`net.mptcp.${String(probed.features.path_manager_switch.value)}`);
    for (const name of FEATURE_NAMES) expect(json.kernel_features[name]?.available, name).toBe(probed.features[name].available);
    const text = run("text").stdout;
    expect(text).toContain(`path manager: kernel (net.mptcp.${String(probed.features.path_manager_switch.value)})`);
    expect(text).toContain(`kernel features (Linux ${probed.release}):`);
  });
});
