// `create ... retry N`: the backoff (compiler/retries.ts), the tracker of each series of
// tries, and how decide(), simulate and explain show them.
import { describe, expect, it } from "vitest";
import type { PlannedAction } from "../compiler/decide.js";
import type { PolicyEvent } from "../compiler/events.js";
import { explainPolicy } from "../compiler/explain.js";
import { interfaceMatcher } from "../compiler/interfaces.js";
import type { PolicyModel } from "../compiler/model.js";
import { compilePolicy } from "../compiler/pipeline.js";
import { planPolicy } from "../compiler/plan.js";
import { nominalRetryDelaysUs, RETRY_CAP_US, retryDelayUs, RetryTracker, type CreateAction } from "../compiler/retries.js";
import { actionJson, describePlannedAction, outcomeJson, simulateEvents } from "../compiler/simulate-events.js";
import { simulateEvents as playgroundSimulate } from "../editor/simulate.js";

const S = 1_000_000;

function model(text: string): PolicyModel {
  const result = compilePolicy([{ name: "p.policy", text }]);
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return result.model as PolicyModel;
}

const DECLS = 'interface wifi = "wlan0"\ninterface lte = "wwan0", "usb*"\n';
const TOKEN = "7f6f626c";
const conn = { token: TOKEN, family: "ipv4", daddr: "203.0.113.80", dport: 443 } as const;
const onWifi = { ...conn, saddr: "10.0.0.2", sport: 43390, ifname: "wlan0" } as const;
const onLte = (sport: number, error?: number): PolicyEvent => ({ ...conn, event: error === undefined ? "subflow_established" : "subflow_closed", saddr: "10.0.1.2", sport, ifname: "wwan0", ...(error !== undefined ? { error } : {}) });

function create(fields: Partial<CreateAction> = {}): CreateAction {
  return { op: "create", token: TOKEN, scope: "connection", afterUs: 0, at: { file: "p.policy", line: 3, column: 1 }, backup: false, attempt: 1, attempts: 4, ...fields };
}

describe("retryDelayUs", () => {
  it("starts at the create's `after` and doubles, try by try", () => {
    expect([1, 2, 3, 4].map((k) => retryDelayUs(2 * S, k))).toEqual([2 * S, 4 * S, 8 * S, 16 * S]);
  });

  it("starts at 1 s without `after`", () => {
    expect([1, 2, 3].map((k) => retryDelayUs(0, k))).toEqual([S, 2 * S, 4 * S]);
  });

  it("never waits longer than 60 s, however long `after` is", () => {
    expect(retryDelayUs(S, 7)).toBe(60 * S);
    expect(retryDelayUs(S, 10)).toBe(RETRY_CAP_US);
    expect(retryDelayUs(120 * S, 1)).toBe(60 * S);
    expect(retryDelayUs(S, 2000)).toBe(60 * S);
  });

  it("adds jitter of ±20 %, uniform, still at most 60 s", () => {
    expect(retryDelayUs(2 * S, 2, () => 0)).toBe(3.2 * S);
    expect(retryDelayUs(2 * S, 2, () => 0.5)).toBe(4 * S);
    expect(retryDelayUs(2 * S, 2, () => 0.999_999)).toBeLessThan(4.8 * S);
    expect(retryDelayUs(S, 10, () => 0.999_999)).toBe(60 * S);
    expect(retryDelayUs(S, 10, () => 0)).toBe(48 * S);
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    for (let i = 0; i < 1000; i++) {
      const delay = retryDelayUs(S, 3, random);
      expect(delay).toBeGreaterThanOrEqual(3.2 * S);
      expect(delay).toBeLessThanOrEqual(4.8 * S);
    }
  });

  it("lists the nominal waits of a series (explain)", () => {
    expect(nominalRetryDelaysUs(2 * S, 3)).toEqual([2 * S, 4 * S, 8 * S]);
    expect(nominalRetryDelaysUs(0, 10).map((us) => us / S)).toEqual([1, 2, 4, 8, 16, 32, 60, 60, 60, 60]);
  });
});

describe("RetryTracker", () => {
  const match = interfaceMatcher(model(`${DECLS}endpoint wifi subflow\nendpoint lte subflow\n`));

  it("answers each failure of the series' subflow with the next try, then says it is exhausted", () => {
    const tracker = new RetryTracker(match);
    const first = create({ via: "lte", afterUs: 2 * S, attempts: 3 });
    expect(tracker.started(TOKEN, first, 3)).toMatchObject({ attempt: 1, attempts: 3 });
    const second = tracker.failed(onLte(51000, 110));
    expect(second).toMatchObject({ exhausted: false, attempt: 2, attempts: 3, delayUs: 2 * S, action: { op: "create", via: "lte", afterUs: 2 * S, attempt: 2, attempts: 3 } });
    expect(tracker.failed(onLte(51001, 111))).toMatchObject({ exhausted: false, attempt: 3, delayUs: 4 * S, action: { afterUs: 4 * S, attempt: 3 } });
    expect(tracker.failed(onLte(51002, 110))).toMatchObject({ exhausted: true, attempt: 3, attempts: 3 });
    expect(tracker.live(TOKEN)).toEqual([]);
    expect(tracker.failed(onLte(51003, 110))).toBeUndefined();
  });

  it("jitters the waits when given a random source", () => {
    const tracker = new RetryTracker(match, () => 0);
    tracker.started(TOKEN, create({ via: "lte" }), 4);
    expect(tracker.failed(onLte(51000, 110))).toMatchObject({ delayUs: 0.8 * S, action: { afterUs: 0.8 * S } });
  });

  it("matches `via` through the interface patterns (globs), and only failures with an error", () => {
    const tracker = new RetryTracker(match);
    tracker.started(TOKEN, create({ via: "lte" }), 4);
    expect(tracker.failed({ ...onWifi, event: "subflow_closed", error: 110 })).toBeUndefined();
    expect(tracker.failed({ ...onLte(51000, 110), error: undefined })).toBeUndefined();
    expect(tracker.failed({ ...onLte(51000, 110), event: "subflow_priority" })).toBeUndefined();
    expect(tracker.failed({ ...onLte(51000, 110), ifname: undefined })).toBeUndefined();
    expect(tracker.failed({ ...onLte(51000, 110), token: "00000001" })).toBeUndefined();
    expect(tracker.failed({ ...onLte(51000, 110), ifname: "usb1" })).toMatchObject({ attempt: 2 });
  });

  it("matches `from` and `to` against the event's addresses, and `port` against its dport", () => {
    const tracker = new RetryTracker(match);
    tracker.started(TOKEN, create({ from: "10.0.1.2", to: "203.0.113.80", port: 443 }), 4);
    expect(tracker.failed({ ...onLte(51000, 110), saddr: "10.0.9.9" })).toBeUndefined();
    expect(tracker.failed({ ...onLte(51000, 110), daddr: "192.0.2.1" })).toBeUndefined();
    expect(tracker.failed({ ...onLte(51000, 110), dport: 8443 })).toBeUndefined();
    expect(tracker.failed(onLte(51000, 110))).toMatchObject({ attempt: 2 });
  });

  it("never takes a subflow that was open when the series started for its own", () => {
    const tracker = new RetryTracker(match);
    tracker.started(TOKEN, create({ via: "lte" }), 4, { open: [{ saddr: "10.0.1.2", sport: 51000, daddr: "203.0.113.80", dport: 443 }] });
    expect(tracker.failed(onLte(51000, 104))).toBeUndefined();
    expect(tracker.failed(onLte(51001, 110))).toMatchObject({ attempt: 2 });
  });

  it("gives a subflow two series could claim to the oldest; the other keeps waiting", () => {
    const tracker = new RetryTracker(match);
    const rule = (index: number) => ({ index, at: { file: "p.policy", line: index + 3, column: 1 } });
    tracker.started(TOKEN, create({ via: "lte", attempts: 2 }), 2, { rule: rule(0) });
    tracker.started(TOKEN, create({ via: "lte", attempts: 3 }), 3, { rule: rule(1) });
    expect(tracker.failed(onLte(51000, 110))).toMatchObject({ rule: rule(0), attempt: 2, attempts: 2 });
    expect(tracker.established(onLte(51001))).toMatchObject({ rule: rule(0), attempt: 2 });
    expect(tracker.live(TOKEN)).toEqual([expect.objectContaining({ rule: rule(1), attempt: 1, attempts: 3 })]);
    expect(tracker.failed(onLte(51002, 110))).toMatchObject({ rule: rule(1), attempt: 2 });
  });

  it("ends a series when its subflow is established, and cancels a connection's series when it closes", () => {
    const tracker = new RetryTracker(match);
    tracker.started(TOKEN, create({ via: "lte" }), 4);
    expect(tracker.established({ ...onWifi, event: "subflow_established" })).toBeUndefined();
    expect(tracker.established(onLte(51000))).toMatchObject({ attempt: 1, attempts: 4 });
    expect(tracker.failed(onLte(51001, 110))).toBeUndefined();
    tracker.started(TOKEN, create({ via: "lte" }), 4);
    tracker.started(TOKEN, create({ via: "wifi" }), 4);
    tracker.started("00000001", create({ token: "00000001", via: "wifi" }), 4);
    expect(tracker.closed(TOKEN)).toHaveLength(2);
    expect(tracker.failed(onLte(51002, 110))).toBeUndefined();
    expect(tracker.live("00000001")).toHaveLength(1);
  });

  it("treats a kernel refusal of the request as a failure of that try", () => {
    const tracker = new RetryTracker(match);
    const first = create({ via: "lte", attempts: 2 });
    tracker.started(TOKEN, first, 2);
    const next = tracker.refused(TOKEN, first);
    expect(next).toMatchObject({ exhausted: false, attempt: 2 });
    expect(tracker.refused(TOKEN, next?.action as PlannedAction)).toMatchObject({ exhausted: true, attempt: 2 });
    expect(tracker.refused(TOKEN, first)).toBeUndefined();
  });

  it("takes a subflow described without an event (the policy's interface name, addresses)", () => {
    const tracker = new RetryTracker(match);
    tracker.started(TOKEN, create({ via: "lte", to: "203.0.113.80" }), 4);
    expect(tracker.failed({ token: TOKEN, via: "wifi", to: "203.0.113.80" })).toBeUndefined();
    expect(tracker.failed({ token: TOKEN, via: "lte", to: "203.0.113.80" })).toMatchObject({ attempt: 2 });
    expect(tracker.established({ token: TOKEN, via: "lte", to: "203.0.113.80" })).toMatchObject({ attempt: 2 });
  });

  it("records nothing for a create without retries, and starts a connection's own copy for every-connection actions", () => {
    const tracker = new RetryTracker(match);
    expect(tracker.started(TOKEN, create({ attempt: undefined, attempts: undefined }))).toBeUndefined();
    expect(tracker.started(TOKEN, { op: "log", message: "x", scope: "none", afterUs: 0, at: { file: "p", line: 1, column: 1 } }, 3)).toBeUndefined();
    const shared = create({ token: undefined, scope: "every_connection", via: "lte" });
    expect(tracker.started(TOKEN, shared)?.action).toMatchObject({ token: TOKEN, attempt: 1, attempts: 4 });
    expect(tracker.failed(onLte(51000, 110))?.action).toMatchObject({ token: TOKEN, attempt: 2 });
  });
});

describe("decide and simulate with retries", () => {
  const POLICY = `${DECLS}on subflow_closed if iface wifi then create via lte after 2s retry 2\non subflow_closed if iface lte then log "lte closed"\non iface_up wifi then create via wifi retry 1\n`;
  const at = (line: number) => `p.policy:${line}`;

  it("marks the rule's create as attempt 1 of N + 1, in words and in JSON", () => {
    const [, , closed] = simulateEvents(model(POLICY), [
      { event: "established", ...onWifi },
      { event: "subflow_established", ...onWifi, sport: 43391 },
      { event: "subflow_closed", ...onWifi, sport: 43391, error: 104 },
    ]);
    const action = closed?.actions[0] as PlannedAction;
    expect(action).toMatchObject({ op: "create", via: "lte", attempt: 1, attempts: 3, afterUs: 2 * S });
    expect(describePlannedAction(action)).toBe("create a subflow via lte to 203.0.113.80 port 443 after 2000ms (attempt 1 of 3)");
    expect(actionJson(action)).toEqual({ op: "create", via: "lte", to: "203.0.113.80", port: 443, backup: false, attempt: 1, attempts: 3, scope: "connection", after_ms: 2000, rule: at(3) });
  });

  it("answers the failures of the series' subflow with the retries (not the rules), until exhausted", () => {
    const outcomes = simulateEvents(model(POLICY), [
      { event: "established", ...onWifi },
      { event: "subflow_closed", ...onWifi, error: 104 },
      onLte(51000, 110),
      onLte(51001, 110),
      onLte(51002, 110),
    ]).map(outcomeJson);
    const retry = (attempt: number, afterMs: number) => ({ op: "create", via: "lte", to: "203.0.113.80", port: 443, backup: false, attempt, attempts: 3, scope: "connection", after_ms: afterMs, rule: at(3) });
    expect(outcomes.slice(1)).toEqual([
      { event: "subflow_closed", token: TOKEN, rules: [at(3)], actions: [retry(1, 2000)] },
      { event: "subflow_closed", token: TOKEN, rules: [at(3)], actions: [retry(2, 2000)], retry: { attempt: 2, attempts: 3, exhausted: false } },
      { event: "subflow_closed", token: TOKEN, rules: [at(3)], actions: [retry(3, 4000)], retry: { attempt: 3, attempts: 3, exhausted: false } },
      { event: "subflow_closed", token: TOKEN, rules: [at(3)], actions: [], retry: { attempt: 3, attempts: 3, exhausted: true } },
    ]);
    // Once the series is over, an LTE subflow's close is the rules' again.
    const after = simulateEvents(model(POLICY), [{ event: "established", ...onWifi }, { event: "subflow_closed", ...onWifi, error: 104 }, onLte(51000, 110), onLte(51001), onLte(51001, 104)]);
    expect(after[3]?.fired).toEqual([]);
    expect(after[4]).toMatchObject({ fired: [{ line: 4 }], actions: [{ op: "log", message: "lte closed" }] });
    expect(after[4]?.retry).toBeUndefined();
  });

  it("cancels the series when the connection closes", () => {
    const outcomes = simulateEvents(model(POLICY), [
      { event: "established", ...onWifi },
      { event: "subflow_closed", ...onWifi, error: 104 },
      { event: "closed", token: TOKEN },
      { event: "established", ...onWifi },
      onLte(51000, 110),
    ]);
    expect(outcomes[4]).toMatchObject({ fired: [{ line: 4 }], actions: [{ op: "log" }] });
  });

  it("starts a series on every open connection for an interface event's create", () => {
    const other = { ...onWifi, token: "00000002", sport: 40000 };
    const outcomes = simulateEvents(model(POLICY), [
      { event: "established", ...onWifi },
      { event: "established", ...other },
      { event: "iface_up", ifname: "wlan0" },
      { event: "subflow_closed", ...other, sport: 40001, error: 110 },
    ]);
    expect(outcomes[2]?.actions).toEqual([expect.objectContaining({ op: "create", via: "wifi", scope: "every_connection", attempt: 1, attempts: 2 })]);
    expect(outcomes[3]).toMatchObject({ fired: [{ line: 5 }], actions: [{ op: "create", via: "wifi", token: "00000002", attempt: 2, attempts: 2, afterUs: S }] });
  });

  it("shows the tries in the playground's simulator, and the series giving up", () => {
    const steps = playgroundSimulate(model(POLICY), [
      { event: "established", ...onWifi },
      { event: "subflow_closed", ...onWifi, error: 104 },
      onLte(51000, 110),
      onLte(51001, 110),
      onLte(51002, 110),
    ]);
    expect(steps[1]?.actions[0]?.summary).toBe(`on connection ${TOKEN}: open a subflow from an address of lte to 203.0.113.80 port 443 (attempt 1 of 3)`);
    expect(steps[2]).toMatchObject({ rule: { index: 0 }, retry: { attempt: 2, exhausted: false }, actions: [{ command: "SUBFLOW_CREATE", afterMs: 2000 }] });
    expect(steps[2]?.actions[0]?.summary).toMatch(/\(attempt 2 of 3\)$/);
    expect(steps[3]?.actions[0]).toMatchObject({ afterMs: 4000 });
    expect(steps[4]).toMatchObject({ rule: { index: 0 }, retry: { exhausted: true }, actions: [{ command: "retry", summary: "the subflow its create opened failed; that was attempt 3 of 3: no more tries" }] });
  });
});

describe("explain and plan with retries", () => {
  it("says the waits in words", () => {
    const text = explainPolicy(model(`${DECLS}on subflow_closed if iface wifi then create via lte after 2s retry 3\non established then create via wifi retry 1\non established if side server then create via lte retry 10\n`));
    expect(text).toContain(
      "  - open a subflow from lte to the peer's address, after 2s; if it fails to open, tried again up to 3 times after 2s, 4s, 8s (doubling, at most 60s, with jitter) until it is established; the connection closing cancels it",
    );
    expect(text).toContain("  - open a subflow from wifi to the peer's address; if it fails to open, tried again once after 1s (at most 60s, with jitter) until it is established");
    expect(text).toContain("tried again up to 10 times after 1s, 2s, 4s, 8s, 16s, 32s, 60s, 60s, 60s, 60s (doubling");
  });

  it("needs the userspace path manager even on an interface event, and plans the retries", () => {
    const plan = planPolicy(model(`${DECLS}on iface_up wifi then create via wifi retry 2\n`));
    expect(plan.strategy).toBe("userspace");
    expect(plan.reasons).toEqual(["p.policy:3: 'create ... retry' needs the daemon to see each subflow fail and open it again"]);
    expect(plan.rules[0]?.actions[0]).toMatchObject({ op: "create", retry: 2, commands: [{ command: "SUBFLOW_CREATE", when: "for every open connection; again, up to 2 more times, when the subflow fails to open" }] });
  });
});
