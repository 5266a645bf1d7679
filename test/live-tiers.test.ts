// The live scheduler tiers' decisions (pure): which subflows stay active for each kind
// of deciding step, the margin that keeps a pick, and the agreement of two samples.
// The daemon steering a real transfer by them is in test/live-tiers-lab.test.ts.
import { describe, expect, it } from "vitest";
import { chooseTier, LiveTierState, type LiveSubflow } from "../compiler/scheduler/live-tiers.js";
import type { PolicyModel } from "../compiler/model.js";
import { compilePolicy } from "../compiler/pipeline.js";

function modelOf(text: string): PolicyModel {
  const result = compilePolicy([{ name: "p.policy", text }]);
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return result.model as PolicyModel;
}

const connection = { family: "ipv4", local: "10.0.1.1", remote: "10.0.1.2", localPort: 40000, remotePort: 443, side: "client" } as const;
const ifaceNames = (ifname: string) => [ifname];
const metrics = { rtt: 0, rtt_var: 0, cwnd: 10, inflight: 0, queued: 0, pacing: 0, lost: 0, retrans: 0 };
const subflow = (key: string, rttMs: number, over: Partial<LiveSubflow> = {}): LiveSubflow => ({
  key,
  ifname: key,
  backup: false,
  stale: false,
  active: true,
  sndbufFull: false,
  metrics: { ...metrics, rtt: rttMs * 1000 },
  ...over,
});
const scheduler = (text: string) => modelOf(`interface wifi = "wifi"\ninterface lte = "lte"\n${text}`).schedulers[0]!;

describe("live scheduler tiers", () => {
  const fastFirst = scheduler("scheduler fast {\n  use where rtt < 100ms by lowest rtt\n  use any\n}\n");

  it("keeps only the subflow a `use` step picks active", () => {
    expect(chooseTier(fastFirst, connection, [subflow("wifi", 150), subflow("lte", 10)], ifaceNames)).toEqual({ active: ["lte"], step: 1 });
  });

  it("gives the flags back to the rules when `use any` decides (the kernel's choice)", () => {
    expect(chooseTier(fastFirst, connection, [subflow("wifi", 150), subflow("lte", 120)], ifaceNames)).toEqual({ active: undefined, step: 2 });
  });

  it("keeps every match of redundant and round_robin active", () => {
    const redundant = scheduler("scheduler r {\n  redundant where rtt < 100ms\n  use any\n}\n");
    expect(chooseTier(redundant, connection, [subflow("wifi", 20), subflow("lte", 30), subflow("other", 300)], ifaceNames).active).toEqual(["wifi", "lte"]);
    const turns = scheduler("scheduler t {\n  round_robin where iface in (wifi, lte)\n}\n");
    expect(chooseTier(turns, connection, [subflow("wifi", 20), subflow("lte", 30)], ifaceNames).active).toEqual(["wifi", "lte"]);
  });

  it("changes nothing when no step finds a subflow", () => {
    const strict = scheduler("scheduler s {\n  use where rtt < 5ms\n}\n");
    expect(chooseTier(strict, connection, [subflow("wifi", 20), subflow("lte", 30)], ifaceNames)).toEqual({ active: undefined, step: null });
  });

  it("keeps the previous pick unless the challenger is 20 % better", () => {
    const lowest = scheduler("scheduler l {\n  use where iface in (wifi, lte) by lowest rtt\n}\n");
    expect(chooseTier(lowest, connection, [subflow("wifi", 50), subflow("lte", 45)], ifaceNames, "wifi").active).toEqual(["wifi"]);
    expect(chooseTier(lowest, connection, [subflow("wifi", 50), subflow("lte", 39)], ifaceNames, "wifi").active).toEqual(["lte"]);
    // A previous pick the step no longer matches is dropped at once.
    expect(chooseTier(fastFirst, connection, [subflow("wifi", 150), subflow("lte", 90)], ifaceNames, "wifi").active).toEqual(["lte"]);
  });

  it("tests the rules' backup flag and the sampled stale flag", () => {
    const notBackup = scheduler("scheduler b {\n  use where not backup and not stale by lowest rtt\n  use any\n}\n");
    expect(chooseTier(notBackup, connection, [subflow("wifi", 50, { backup: true }), subflow("lte", 80)], ifaceNames).active).toEqual(["lte"]);
    expect(chooseTier(notBackup, connection, [subflow("wifi", 50), subflow("lte", 80, { stale: false })], ifaceNames).active).toEqual(["wifi"]);
    expect(chooseTier(notBackup, connection, [subflow("wifi", 50, { stale: true }), subflow("lte", 80)], ifaceNames).active).toEqual(["lte"]);
  });

  it("applies a new decision only once two samples in a row agree; the first one at once", () => {
    const state = new LiveTierState();
    const lte = { active: ["lte"], step: 1 };
    const wifi = { active: ["wifi"], step: 1 };
    expect(state.offer(lte)).toEqual(lte);
    expect(state.offer(wifi)).toBeUndefined();
    expect(state.offer(lte)).toBeUndefined();
    expect(state.offer(wifi)).toBeUndefined();
    expect(state.offer(wifi)).toEqual(wifi);
    expect(state.pick).toBe("wifi");
    expect(state.offer({ active: undefined, step: 2 })).toBeUndefined();
    expect(state.offer({ active: undefined, step: 2 })).toEqual({ active: undefined, step: 2 });
    expect(state.pick).toBeUndefined();
  });
});
