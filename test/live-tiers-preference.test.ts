// The live scheduler tiers against the kernel's own preference: a policy for the slow
// subflow gets it, where the kernel's default scheduler (--scheduler-fallback=off)
// avoids it. Shows that the tiers, not the kernel, did the steering. On this host and
// in the vitest suite; the kernel matrix runs test/live-tiers-lab.test.ts.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { bytesPerLink, shareOf } from "./lab/transfer.js";
import { startTieredDaemon, TIERS_POLICY, type TieredLab } from "./live-tiers-support.js";
import { buildCli } from "./helpers.js";

const SLOW_POLICY = TIERS_POLICY.replace("scheduler fast {\n  use where rtt < 100ms by lowest rtt", "scheduler slow {\n  use where rtt > 50ms by highest rtt");
let running: TieredLab | undefined;
beforeAll(() => buildCli());
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

describe("live scheduler tiers against the kernel's choice", { timeout: 120_000 }, () => {
  it("a policy for the slow subflow gets it; without the tiers the kernel avoids it", async () => {
    running = await startTieredDaemon(SLOW_POLICY, "approximate", 5102, { congest: true });
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const ours = await bytesPerLink(running.lab, 2000);
    expect(shareOf(ours, "lte")).toBeGreaterThan(0.8);
    await running.stop();
    running = await startTieredDaemon(SLOW_POLICY, "off", 5103, { congest: true });
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const kernels = await bytesPerLink(running.lab, 2000);
    expect(running.daemon.lines.some((l) => l.msg === "live scheduler tier")).toBe(false);
    expect(shareOf(kernels, "lte")).toBeLessThan(0.5);
    process.stderr.write(`slow-subflow policy: lte carried ${(100 * shareOf(ours, "lte")).toFixed(0)} % with the tiers, ${(100 * shareOf(kernels, "lte")).toFixed(0)} % with --scheduler-fallback=off (the kernel's own choice)\n`);
  });
});
