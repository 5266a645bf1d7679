// The reference evaluator's semantics, the snapshot reader and the fallback
// classification, without a kernel. The differential tests (bpf-differential.test.ts)
// hold the generated C to the same semantics.
import { describe, expect, it } from "vitest";
import { interfaceMatcher } from "../compiler/interfaces.js";
import type { PolicyModel } from "../compiler/model.js";
import { compilePolicy } from "../compiler/pipeline.js";
import { conditionC, ifaceClasses, ifaceMask } from "../compiler/scheduler/c-core.js";
import { describeStep } from "../compiler/scheduler/describe.js";
import { emitBpf, kernelNameLiteral, schedulerNameProblems, schedulerOfStructOps, selectedScheduler, structOpsNames } from "../compiler/scheduler/emit.js";
import { decideSchedule, runScheduler } from "../compiler/scheduler/evaluate.js";
import { classifySchedulers } from "../compiler/scheduler/fallback.js";
import { addressWords, decodeResult, encodeTestInput, TEST_INPUT_SIZE } from "../compiler/scheduler/layout.js";
import { simulateSchedules } from "../compiler/scheduler/simulate.js";
import { parseSnapshot, SnapshotError, type Snapshot, type SubflowSnapshot } from "../compiler/scheduler/snapshot.js";

function policy(text: string): PolicyModel {
  const { model, diagnostics } = compilePolicy([{ name: "test.policy", text }]);
  if (!model) throw new Error(diagnostics.map((d) => d.message).join("\n"));
  return model;
}

const IFACES = 'interface wifi = "wlan*"\ninterface lte = "wwan0"\n';

function sf(
  ifname: string,
  over: Partial<SubflowSnapshot["metrics"]> & { backup?: boolean; active?: boolean; stale?: boolean; sndbufFull?: boolean } = {},
): SubflowSnapshot {
  const { backup = false, active = true, stale = false, sndbufFull = false, ...metrics } = over;
  return {
    ifname,
    backup,
    active,
    stale,
    sndbufFull,
    metrics: { rtt: 20000, rtt_var: 1000, cwnd: 10, inflight: 0, queued: 0, pacing: 125000, lost: 0, retrans: 0, ...metrics },
  };
}

function snap(subflows: SubflowSnapshot[], connection: Partial<Snapshot["connection"]> = {}): Snapshot {
  return { connection: { family: "ipv4", local: "10.1.1.1", remote: "192.0.2.7", localPort: 40000, remotePort: 443, side: "client", ...connection }, subflows };
}

function decide(text: string, s: Snapshot, turn = 0) {
  const model = policy(text);
  return decideSchedule(model, s, interfaceMatcher(model), turn);
}

describe("reference evaluator", () => {
  it("use: the lowest rtt among matches; ties go to the first in list order", () => {
    const text = `${IFACES}scheduler s { use where iface wifi }`;
    expect(decide(text, snap([sf("wwan0", { rtt: 1 }), sf("wlan0", { rtt: 30 }), sf("wlan1", { rtt: 20 }), sf("wlan2", { rtt: 20 })]))).toEqual({
      scheduler: "s",
      step: 1,
      scheduled: [2],
      turn: 0,
    });
  });

  it("use by highest: the highest value, first on ties", () => {
    const text = `${IFACES}scheduler s { use by highest pacing }`;
    expect(decide(text, snap([sf("a", { pacing: 5 }), sf("b", { pacing: 9 }), sf("c", { pacing: 9 })])).scheduled).toEqual([1]);
  });

  it("never chooses a subflow the kernel cannot send on (active false)", () => {
    const text = `${IFACES}scheduler s {\n  use by lowest rtt\n}`;
    expect(decide(text, snap([sf("wlan0", { rtt: 1, active: false }), sf("wwan0", { rtt: 9 })])).scheduled).toEqual([1]);
    expect(decide(text, snap([sf("wlan0", { active: false })]))).toEqual({ scheduler: "s", step: null, scheduled: [], turn: 0 });
  });

  it("never chooses a subflow whose send buffer is full, at any step (regression: the kernel's push loop stopped there)", () => {
    const text = `${IFACES}scheduler s {\n  use where iface wifi\n  redundant where not backup\n  round_robin where backup\n  use any\n}`;
    const full = { sndbufFull: true };
    expect(decide(text, snap([sf("wlan0", { rtt: 1, ...full }), sf("wlan1", { rtt: 9 })]))).toMatchObject({ step: 1, scheduled: [1] });
    expect(decide(text, snap([sf("wlan0", full), sf("wwan0"), sf("eth0", full)]))).toMatchObject({ step: 2, scheduled: [1] });
    expect(decide(text, snap([sf("wwan0", full), sf("eth0", { backup: true, ...full }), sf("eth1", { backup: true })]))).toMatchObject({
      step: 3,
      scheduled: [2],
    });
    expect(decide(text, snap([sf("wwan0", full)]))).toMatchObject({ step: null, scheduled: [] });
  });

  it("retransmission: the same steps over subflows that are not stale and have nothing outstanding; no turn is taken (regression)", () => {
    const model = policy(
      `${IFACES}scheduler r for remote port 5060 {\n  round_robin\n}\nscheduler d for remote port 5061 {\n  redundant\n}\nscheduler s {\n  use by lowest rtt\n}`,
    );
    const match = interfaceMatcher(model);
    const retrans = (s: Snapshot, turn = 0) => decideSchedule(model, s, match, turn, "retrans");
    // The lowest-rtt subflow stalled with data in flight: new data still goes there, a retransmission does not.
    const stalled = snap([sf("wlan0", { rtt: 1, queued: 3000 }), sf("wwan0", { rtt: 50 }), sf("eth0", { rtt: 2, stale: true })]);
    expect(decideSchedule(model, stalled, match).scheduled).toEqual([0]);
    expect(retrans(stalled).scheduled).toEqual([1]);
    expect(retrans(snap([sf("wlan0", { queued: 1 })]))).toMatchObject({ scheduler: "s", step: null, scheduled: [] });
    // round_robin: a retransmission takes the subflow the turn points at, and leaves the turn.
    const rr = snap([sf("a"), sf("b"), sf("c")], { remotePort: 5060 });
    expect(retrans(rr, 4)).toEqual({ scheduler: "r", step: 1, scheduled: [1], turn: 4 });
    expect(decideSchedule(model, rr, match, 4)).toEqual({ scheduler: "r", step: 1, scheduled: [1], turn: 5 });
    // redundant: every idle match gets the same retransmitted data.
    expect(retrans(snap([sf("a"), sf("b", { queued: 10 }), sf("c")], { remotePort: 5061 })).scheduled).toEqual([0, 2]);
  });

  it("'active' in a condition means not a backup, not the snapshot's active", () => {
    const text = `${IFACES}scheduler s {\n  redundant where active\n  use any\n}`;
    expect(decide(text, snap([sf("a"), sf("b", { backup: true }), sf("c")])).scheduled).toEqual([0, 2]);
    expect(decide(text, snap([sf("a", { backup: true }), sf("b", { backup: true })]))).toMatchObject({ step: 2, scheduled: [0] });
  });

  it("steps are tried in order; the first that finds a subflow decides", () => {
    const text = `${IFACES}scheduler s {\n  use where iface wifi and rtt < 150ms\n  use where not backup by lowest rtt\n  use any\n}`;
    expect(decide(text, snap([sf("wwan0", { rtt: 10000 }), sf("wlan0", { rtt: 200000 })]))).toMatchObject({ step: 2, scheduled: [0] });
    expect(decide(text, snap([sf("wwan0", { backup: true }), sf("wlan0", { rtt: 200000, backup: true })]))).toMatchObject({ step: 3, scheduled: [0] });
  });

  it("round_robin takes match number turn mod matches and advances the turn", () => {
    const text = `${IFACES}scheduler s { round_robin where not backup }`;
    const s = snap([sf("a"), sf("b", { backup: true }), sf("c"), sf("d")]);
    expect([0, 1, 2, 3].map((t) => decide(text, s, t).scheduled[0])).toEqual([0, 2, 3, 0]);
    expect(decide(text, s, 0xffff_ffff)).toMatchObject({ scheduled: [0], turn: 0 });
  });

  it("the first scheduler whose for matches serves; none: null (the kernel's default)", () => {
    const text = `${IFACES}scheduler voip for remote port 5060 { redundant }\nscheduler web for remote port 443 { use any }`;
    expect(decide(text, snap([sf("a")], { remotePort: 5060 })).scheduler).toBe("voip");
    expect(decide(text, snap([sf("a")]))).toMatchObject({ scheduler: "web" });
    expect(decide(text, snap([sf("a")], { remotePort: 22 }))).toEqual({ scheduler: null, step: null, scheduled: [], turn: 0 });
  });

  it("connection facts: prefixes (IPv4-mapped addresses count as IPv4), side, family, subflows", () => {
    const text = `${IFACES}scheduler s for local in 10.0.0.0/8 and side server { use where subflows >= 2 }`;
    const two = [sf("a"), sf("b")];
    expect(decide(text, snap(two, { side: "server" })).scheduler).toBe("s");
    expect(decide(text, snap(two, { side: "client" })).scheduler).toBeNull();
    expect(decide(text, snap(two, { side: "server", family: "ipv6", local: "::ffff:10.9.9.9", remote: "::ffff:192.0.2.1" })).scheduler).toBe("s");
    expect(decide(text, snap([sf("a")], { side: "server" })).step).toBeNull();
  });

  it("simulate keeps the round_robin turn per connection", () => {
    const model = policy(`${IFACES}scheduler s { round_robin }`);
    const a = snap([sf("a"), sf("b")]);
    const b = snap([sf("a"), sf("b")], { localPort: 40001 });
    expect(simulateSchedules(model, [a, a, b, a, b], interfaceMatcher(model)).map((d) => d.scheduled[0])).toEqual([0, 1, 0, 0, 1]);
  });

  it("runScheduler ignores for (what one block's own struct_ops does)", () => {
    const model = policy(`${IFACES}scheduler voip for remote port 5060 { use any }`);
    expect(runScheduler(model.schedulers[0]!, snap([sf("a")]), interfaceMatcher(model))).toMatchObject({ scheduler: "voip", step: 1 });
  });
});

describe("snapshots", () => {
  const line = {
    connection: { family: "ipv4", local: "10.1.1.1", remote: "192.0.2.7", local_port: 40000, remote_port: 443 },
    subflows: [
      {
        ifname: "wlan0",
        rtt: 23000,
        rtt_var: 4000,
        cwnd: 10,
        inflight: 2,
        queued: 0,
        pacing: 1250000,
        lost: 0,
        retrans: 0,
        stale: false,
        backup: false,
        active: true,
      },
    ],
  };

  it("reads the issue's example line; side defaults to client", () => {
    const s = parseSnapshot(line);
    expect(s.connection).toEqual({ family: "ipv4", local: "10.1.1.1", remote: "192.0.2.7", localPort: 40000, remotePort: 443, side: "client" });
    expect(s.subflows[0]?.metrics.pacing).toBe(1250000);
    expect(s.subflows[0]?.sndbufFull).toBe(false);
    expect(parseSnapshot({ ...line, subflows: [{ ...line.subflows[0], sndbuf_full: true }] }).subflows[0]?.sndbufFull).toBe(true);
  });

  it.each([
    [{ ...line, subflows: Array(9).fill(line.subflows[0]) }, "at most 8"],
    [{ ...line, connection: { ...line.connection, local: "2001:db8::1" } }, "connection.local: expected an IPv4 address"],
    [{ ...line, subflows: [{ ...line.subflows[0], rtt: 2 ** 32 }] }, "subflows[0].rtt: expected a whole number from 0 to 4294967295"],
    [{ ...line, subflows: [{ ...line.subflows[0], active: "yes" }] }, "subflows[0].active: expected true or false"],
    [{ ...line, subflows: [{ ...line.subflows[0], sndbuf_full: 1 }] }, "subflows[0].sndbuf_full: expected true or false"],
    [{ ...line, connection: { ...line.connection, side: "peer" } }, 'connection.side: expected "client" or "server"'],
  ])("names the bad field: %#", (json, message) => {
    expect(() => parseSnapshot(json)).toThrow(SnapshotError);
    expect(() => parseSnapshot(json)).toThrow(message);
  });

  it("encodes the layout the C header pins (sizes, address words, flags) and decodes results", () => {
    const bytes = encodeTestInput(parseSnapshot(line), { ifaceMasks: [5n], turn: 7, force: 2, tracked: 3 });
    expect(bytes.length).toBe(TEST_INPUT_SIZE);
    const view = new DataView(bytes.buffer);
    expect([view.getUint32(0, true), view.getUint32(4, true), view.getUint32(8, true), view.getUint8(8 + 40), view.getUint32(8 + 44, true)]).toEqual([
      2, 3, 0x0a010101, 1, 7,
    ]);
    expect([view.getBigUint64(56 + 8, true), view.getUint32(56 + 16, true), view.getUint32(56 + 44, true)]).toEqual([5n, 23000, 1]);
    const full = encodeTestInput(parseSnapshot({ ...line, subflows: [{ ...line.subflows[0], sndbuf_full: true }] }), {
      ifaceMasks: [],
      turn: 0,
      purpose: "retrans",
    });
    expect([new DataView(full.buffer).getUint8(8 + 42), new DataView(full.buffer).getUint32(56 + 44, true)]).toEqual([1, 1 | 8]);
    expect(addressWords("::ffff:10.1.1.1")).toEqual({ kind: 4, words: [0x0a010101, 0, 0, 0] });
    expect(decodeResult(new Uint8Array([2, 3, 0b101, 0, 9, 0, 0, 0]))).toEqual({ sched: 2, step: 3, mask: 5, turn: 9 });
  });
});

describe("C generation details", () => {
  it("interface classes: only those schedulers test, in declaration order", () => {
    const model = policy(`interface a = "a0"\ninterface b = "b0"\ninterface c = "c0"\nscheduler s { use where iface in (c, a) }\non iface_up b then log "x"`);
    expect(ifaceClasses(model)).toEqual(["a", "c"]);
    expect(ifaceMask(["a", "c"], ["c"])).toBe(2n);
  });

  it("folds comparisons a field's C type decides, so clang sees no tautology", () => {
    const cond = (text: string) => policy(`scheduler s { use where ${text} }`).schedulers[0]?.steps[0]?.where;
    expect(conditionC(cond("rtt < 5000s")!, [], true)).toMatch(/^true /);
    expect(conditionC(cond("lost < 0")!, [], true)).toMatch(/^false /);
    expect(conditionC(cond("local port <= 65535")!, [], true)).toMatch(/^true /);
    expect(conditionC(cond("rtt < 150ms")!, [], true)).toBe("s->rtt < 150000ULL");
  });

  it("every C name made from a scheduler name is a fixed prefix and the name; the kernel name stays the name (regression: 'main')", () => {
    expect(["main", "int", "_x", "mpp_ops__a", "prefer_wifi"].map((n) => structOpsNames(n).variable)).toEqual([
      "mpp_ops__main",
      "mpp_ops__int",
      "mpp_ops___x",
      "mpp_ops__mpp_ops__a",
      "mpp_ops__prefer_wifi",
    ]);
    expect(structOpsNames("mptcp_policy")).toEqual({ variable: "mpp_ops_policy", send: "mpp_send_policy", retrans: "mpp_retrans_policy" });
    for (const n of ["main", "_", "mpp_ops_policy", "mptcp_policy"]) expect(schedulerOfStructOps(structOpsNames(n).variable)).toBe(n);
    expect(schedulerOfStructOps("mpp_iface")).toBeUndefined();
    const c = emitBpf(policy("scheduler main { use any }")).find((f) => f.name === "sched.bpf.c")?.text ?? "";
    expect(c).toContain("struct mptcp_sched_ops mpp_ops__main = {");
    expect(c).toContain('.name = "main",');
    expect(() => kernelNameLiteral("sixteen_chars_xx")).toThrow(/at most 15/);
    expect(() => kernelNameLiteral('a"b')).toThrow();
  });

  it("names the kernel or the dispatcher already use are reported", () => {
    expect(schedulerNameProblems(policy("scheduler default { use any }"))).toEqual([
      "test.policy:1: scheduler name 'default' is taken by the kernel's built-in scheduler; rename the scheduler",
    ]);
    expect(emitBpf(policy("scheduler mptcp_policy { use any }")).find((f) => f.name === "sched.bpf.c")?.text).toContain("#error");
  });

  it("attach selects the one scheduler, or the dispatcher when there are several or a for", () => {
    expect(selectedScheduler(policy("scheduler one { use any }"))).toBe("one");
    expect(selectedScheduler(policy("scheduler one for remote port 1 { use any }"))).toBe("mptcp_policy");
    expect(selectedScheduler(policy('interface a = "a"\non iface_up a then log "x"'))).toBeUndefined();
  });

  it("comments carry file:line and the step in the language's words", () => {
    const model = policy(`${IFACES}scheduler s {\n  use where iface wifi and queued < 64KB by highest pacing\n  round_robin where not stale\n}`);
    expect(model.schedulers[0]?.steps.map(describeStep)).toEqual(["use where iface wifi and queued < 64KB by highest pacing", "round_robin where not stale"]);
    expect(emitBpf(model)[0]?.text).toContain("/* test.policy:4: use where iface wifi and queued < 64KB by highest pacing */");
  });
});

describe("fallback without the BPF hook", () => {
  it("classifies each scheduler: exact, or approximated live (with what to mark at once and what is lost)", () => {
    const model = policy(
      `${IFACES}scheduler a for remote port 1 { use any }\n` +
        "scheduler b for remote port 2 {\n  use where iface wifi and rtt < 150ms\n  use any\n}\n" +
        "scheduler c for remote port 3 {\n  redundant where active\n  use any\n}\n" +
        "scheduler d for remote port 4 { round_robin }\n" +
        "scheduler e for remote port 5 {\n  use where rtt < 20ms\n  use any\n}\n" +
        "scheduler f {\n  use where active and not stale by lowest rtt\n  use any\n}\n",
    );
    const result = classifySchedulers(model);
    expect(result.map((r) => [r.scheduler, r.kind, r.live])).toEqual([
      ["a", "exact", false],
      ["b", "approximated", true],
      ["c", "approximated", true],
      ["d", "approximated", true],
      ["e", "approximated", true],
      ["f", "approximated", true],
    ]);
    // Marked at once: what the path manager knows of the first step; the metric waits for samples.
    expect(result[1]?.active).toEqual({ op: "iface", names: ["wifi"] });
    expect(result[4]?.active).toBeUndefined();
    expect(result[5]?.active).toBeUndefined();
    expect(result[1]?.losses.join(" ")).toContain("per-packet choices");
    // No promise of duplicates: the development tree's kernel sends new data once (regression).
    expect(result[2]?.losses[0]).toBe(
      "'redundant where active': every matching subflow stays active, but the kernel sends each piece of data on one of them (even with the hook, new data goes out once, spread over the matching subflows, and only retransmissions are sent on every match)",
    );
    expect(result[3]?.losses[0]).toContain("not in turn");
  });

  it("relaxing respects polarity: a metric under not drops out the other way", () => {
    const model = policy(`${IFACES}scheduler s {\n  use where iface wifi and not rtt > 100ms\n  use any\n}`);
    expect(classifySchedulers(model)[0]?.active).toEqual({ op: "iface", names: ["wifi"] });
  });
});
