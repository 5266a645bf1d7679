// The heart of the scheduler back end's tests: the generated decision core, verified
// and run in this kernel through BPF_PROG_TEST_RUN, must answer exactly as the
// TypeScript reference evaluator on thousands of snapshots, for every example policy
// and for random scheduler blocks (fast-check, fixed seeds). A mismatch is a bug: it
// gets a regression test in scheduler-evaluate.test.ts.
import fc from "fast-check";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { interfaceMatcher } from "../compiler/interfaces.js";
import type { PolicyModel } from "../compiler/model.js";
import { compilePolicy } from "../compiler/pipeline.js";
import { decideSchedule, runScheduler, type ScheduleDecision } from "../compiler/scheduler/evaluate.js";
import { simulateSchedules } from "../compiler/scheduler/simulate.js";
import { snapshotToJson } from "../compiler/scheduler/snapshot.js";
import { BpfEngine } from "../runtime/bpf/engine.js";
import { loadObject } from "../runtime/bpf/helper.js";
import { bpfUnavailable } from "./bpf-support.js";
import { ROOT } from "./helpers.js";
import { randomSchedulerPolicy, snapshotArbitrary, type GeneratedInput } from "./scheduler-arbitraries.js";

const skip = bpfUnavailable();
const engines: BpfEngine[] = [];
afterAll(() => engines.forEach((e) => e.close()));

function engineFor(model: PolicyModel): BpfEngine {
  const engine = new BpfEngine(model);
  engines.push(engine);
  return engine;
}

/** The first disagreement, with everything needed to reproduce it; undefined: none. */
function firstMismatch(
  policy: string,
  inputs: readonly GeneratedInput[],
  expected: readonly ScheduleDecision[],
  actual: readonly ScheduleDecision[],
): string | undefined {
  const i = expected.findIndex((e, k) => JSON.stringify(e) !== JSON.stringify(actual[k]));
  if (i < 0) return undefined;
  const input = inputs[i] as GeneratedInput;
  return `policy:\n${policy}\nsnapshot (turn ${input.turn}, ${input.purpose}): ${JSON.stringify(snapshotToJson(input.snapshot))}\nreference: ${JSON.stringify(expected[i])}\nbpf:       ${JSON.stringify(actual[i])}`;
}

function check(policy: string, model: PolicyModel, engine: BpfEngine, inputs: readonly GeneratedInput[]): void {
  const match = interfaceMatcher(model);
  // The policy's choice, then each scheduler alone (its `for` not tested: what its own
  // struct_ops runs) on the first 300 inputs; one test run for all of them.
  const some = inputs.slice(0, 300);
  const cases = [
    {
      label: "",
      inputs,
      expected: inputs.map((x) => decideSchedule(model, x.snapshot, match, x.turn, x.purpose)),
      force: undefined as number | undefined,
    },
    ...model.schedulers.map((s, k) => ({
      label: `\n(scheduler ${s.name} alone)`,
      inputs: some,
      expected: some.map((x) => runScheduler(s, x.snapshot, match, x.turn, x.purpose)),
      force: k,
    })),
  ];
  const all = engine.run(
    cases.flatMap((c) =>
      c.inputs.map((x) => ({ snapshot: x.snapshot, turn: x.turn, purpose: x.purpose, ...(c.force === undefined ? {} : { force: c.force }) })),
    ),
  );
  let at = 0;
  for (const c of cases) {
    const actual = all.slice(at, at + c.inputs.length);
    at += c.inputs.length;
    expect(firstMismatch(`${policy}${c.label}`, c.inputs, c.expected, actual)).toBeUndefined();
  }
}

function examplePolicies(): { name: string; sources: { name: string; text: string }[] }[] {
  const dir = join(ROOT, "examples");
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => ({
      name: e.name,
      sources: readdirSync(join(dir, e.name))
        .filter((f) => f.endsWith(".policy"))
        .map((f) => ({ name: `examples/${e.name}/${f}`, text: readFileSync(join(dir, e.name, f), "utf8") })),
    }))
    .filter((p) => p.sources.length > 0);
}

describe.skipIf(skip)("generated decision core = reference evaluator, in this kernel", () => {
  for (const example of examplePolicies()) {
    it(`example ${example.name}: 2000 snapshots`, { timeout: 60_000 }, () => {
      const { model } = compilePolicy(example.sources);
      if (!model) throw new Error(`${example.name} does not check`);
      const engine = engineFor(model);
      const inputs = fc.sample(snapshotArbitrary(model), { numRuns: 2000, seed: 0x5eed });
      check(example.sources.map((s) => s.text).join("\n"), model, engine, inputs);
    });
  }

  // 40 random policies of 1 to 4 schedulers, in 4 groups so each test stays short.
  const policies = fc.sample(randomSchedulerPolicy, { numRuns: 40, seed: 20251125 });
  for (let group = 0; group < 4; group++) {
    it(`random scheduler blocks, group ${group + 1}: 10 policies x 250 snapshots`, { timeout: 120_000 }, () => {
      for (const text of policies.slice(group * 10, group * 10 + 10)) {
        const { model, diagnostics } = compilePolicy([{ name: "random.policy", text }]);
        if (!model) throw new Error(`generated policy does not check:\n${text}\n${JSON.stringify(diagnostics.map((d) => d.message))}`);
        const engine = new BpfEngine(model);
        try {
          check(text, model, engine, fc.sample(snapshotArbitrary(model), { numRuns: 250, seed: text.length }));
        } finally {
          engine.close();
        }
      }
    });
  }

  it("round_robin turns carried per connection match simulate's reference run", () => {
    const text = 'interface wifi = "wlan0"\nscheduler spread {\n  round_robin where not backup\n  use any\n}\n';
    const { model } = compilePolicy([{ name: "rr.policy", text }]);
    if (!model) throw new Error("rr policy does not check");
    const inputs = fc.sample(snapshotArbitrary(model), { numRuns: 60, seed: 3 });
    // Three connections, interleaved, each seen many times.
    const base = { family: "ipv4", local: "10.1.1.1", remote: "192.0.2.7", remotePort: 443, side: "client" } as const;
    const snapshots = inputs.map((x, i) => ({ ...x.snapshot, connection: { ...base, localPort: 40000 + (i % 3) } }));
    const expected = simulateSchedules(model, snapshots, interfaceMatcher(model));
    const actual = engineFor(model).run(snapshots.map((snapshot) => ({ snapshot })));
    expect(actual).toEqual(expected);
    expect(new Set(expected.map((d) => d.turn)).size).toBeGreaterThan(3);
  });

  it("in the kernel: a full send buffer is skipped; a retransmission avoids the stalled subflow and takes no turn (regressions)", () => {
    const text =
      'interface wifi = "wlan*"\nscheduler rr for remote port 5060 {\n  round_robin\n}\nscheduler s {\n  use where iface wifi by lowest rtt\n  use any\n}\n';
    const { model } = compilePolicy([{ name: "fidelity.policy", text }]);
    if (!model) throw new Error("does not check");
    const metrics = { rtt: 20000, rtt_var: 1000, cwnd: 10, inflight: 0, queued: 0, pacing: 125000, lost: 0, retrans: 0 };
    const sub = (ifname: string, over: Partial<typeof metrics> & { stale?: boolean; sndbufFull?: boolean } = {}) => {
      const { stale = false, sndbufFull = false, ...m } = over;
      return { ifname, metrics: { ...metrics, ...m }, stale, backup: false, active: true, sndbufFull };
    };
    const connection = { family: "ipv4", local: "10.1.1.1", remote: "192.0.2.7", localPort: 40000, remotePort: 443, side: "client" } as const;
    const stalled = { connection, subflows: [sub("wlan0", { rtt: 1000, queued: 5000 }), sub("wlan1", { rtt: 9000 }), sub("wwan0", { rtt: 500 })] };
    const full = { connection, subflows: [sub("wlan0", { rtt: 1000, sndbufFull: true }), sub("wlan1", { rtt: 9000 })] };
    const rr = { connection: { ...connection, remotePort: 5060 }, subflows: [sub("a"), sub("b"), sub("c", { stale: true })] };
    const got = engineFor(model).run([
      { snapshot: stalled, turn: 0 },
      { snapshot: stalled, turn: 0, purpose: "retrans" },
      { snapshot: full, turn: 0 },
      { snapshot: rr, turn: 7 },
      { snapshot: rr, turn: 7, purpose: "retrans" },
    ]);
    expect(got).toEqual([
      { scheduler: "s", step: 1, scheduled: [0], turn: 0 },
      { scheduler: "s", step: 1, scheduled: [1], turn: 0 },
      { scheduler: "s", step: 1, scheduled: [1], turn: 0 },
      { scheduler: "rr", step: 1, scheduled: [1], turn: 8 },
      { scheduler: "rr", step: 1, scheduled: [1], turn: 7 },
    ]);
  });

  it("verifier cost stays small: steps do not carry what the verifier learned into the next (regression)", () => {
    // Found with the random policies: 'use ...' followed by 'round_robin ...' took the
    // verifier 650,000 instructions (the limit is 1,000,000) while each step alone took
    // under 10,000, because clang reused the first step's loads in the second.
    const text =
      'interface wifi = "wlan*"\nscheduler s {\n  use where queued >= 64KB by highest rtt_var\n  round_robin where not (active and stale)\n  redundant where iface wifi\n  use any\n}\n';
    const { model } = compilePolicy([{ name: "steps.policy", text }]);
    if (!model) throw new Error("does not check");
    const [info] = loadObject(engineFor(model).object);
    expect(info?.verified_insns ?? Infinity).toBeLessThan(20_000);
  });

  it("the decision core of every example passes the verifier with room to spare", () => {
    for (const example of examplePolicies()) {
      const { model } = compilePolicy(example.sources);
      if (!model) continue;
      const [info] = loadObject(engineFor(model).object);
      expect(info?.name).toBe("mpp_test");
      expect(info?.verified_insns ?? Infinity).toBeLessThan(50_000);
    }
  });
});
