// The stale detector on made-up samples (pure); the daemon's live detection on a
// real blackhole is in test/daemon-failover.test.ts.
import { describe, expect, it } from "vitest";
import { StaleDetector, staleBoundMs, type ProgressSample } from "../runtime/daemon/stale-detector.js";

const RTT = 20_000;
const sample = (over: Partial<ProgressSample> = {}): ProgressSample => ({ key: "a", unacked: 10, bytesAcked: 1000, lastAckRecvMs: 0, rttUs: RTT, rttvarUs: 1000, ...over });

describe("stale detection", () => {
  it("derives the bound from the RTT: 3 RTT + 4 variations + 100 ms", () => {
    expect(staleBoundMs(20_000, 1_000)).toBe(164);
    expect(staleBoundMs(0, 0)).toBe(100);
  });

  it("marks a subflow stale once outstanding data goes unacknowledged past the bound, once", () => {
    const d = new StaleDetector();
    expect(d.update(0, [sample()])).toEqual([]);
    expect(d.update(100, [sample({ lastAckRecvMs: 100 })])).toEqual([]);
    expect(d.update(200, [sample({ lastAckRecvMs: 200 })])).toEqual([{ key: "a", kind: "subflow_stale", stalledMs: 200 }]);
    expect(d.update(300, [sample({ lastAckRecvMs: 300 })])).toEqual([]);
    expect(d.isStale("a")).toBe(true);
  });

  it("says recovered when acknowledged bytes grow again", () => {
    const d = new StaleDetector();
    d.update(0, [sample()]);
    d.update(500, [sample({ lastAckRecvMs: 500 })]);
    expect(d.update(600, [sample({ bytesAcked: 5000, lastAckRecvMs: 10 })])).toEqual([{ key: "a", kind: "subflow_recovered", stalledMs: 600 }]);
    expect(d.isStale("a")).toBe(false);
  });

  it("counts from the last acknowledgement when first seen, and never with nothing outstanding", () => {
    const d = new StaleDetector();
    expect(d.update(1000, [sample({ lastAckRecvMs: 900 })])).toEqual([]);
    expect(d.update(1100, [sample({ lastAckRecvMs: 1000 })]).map((t) => t.kind)).toEqual(["subflow_stale"]);
    const idle = new StaleDetector();
    for (let t = 0; t <= 5000; t += 100) expect(idle.update(t, [sample({ key: "idle", unacked: 0, lastAckRecvMs: t })])).toEqual([]);
    // Data starts flowing after a long idle time: the clock starts then, not at the last acknowledgement.
    expect(idle.update(5100, [sample({ key: "idle", unacked: 5, lastAckRecvMs: 5100 })])).toEqual([]);
  });

  it("is not fooled by acknowledgements that keep coming: progress every sample is never stale", () => {
    const d = new StaleDetector();
    for (let t = 0; t <= 3000; t += 100) expect(d.update(t, [sample({ bytesAcked: 1000 + t, lastAckRecvMs: 5 })])).toEqual([]);
  });

  it("scales with the path: a 300 ms RTT path waits longer", () => {
    const d = new StaleDetector();
    d.update(0, [sample({ rttUs: 300_000, rttvarUs: 10_000 })]);
    expect(d.update(900, [sample({ rttUs: 300_000, rttvarUs: 10_000, lastAckRecvMs: 900 })])).toEqual([]);
    expect(d.update(1100, [sample({ rttUs: 300_000, rttvarUs: 10_000, lastAckRecvMs: 1100 })]).map((t) => t.kind)).toEqual(["subflow_stale"]);
  });

  it("forgets subflows that leave the sample", () => {
    const d = new StaleDetector();
    d.update(0, [sample(), sample({ key: "b" })]);
    d.update(100, [sample({ key: "b" })]);
    expect(d.size).toBe(1);
  });
});
