// The language half of `subflow_stale` / `subflow_recovered` and `create ... retry N`:
// vocabulary, grammar, formatter, checker codes with their positions, the storm lint.
import { describe, expect, it } from "vitest";
import { readEvent } from "../compiler/events.js";
import type { PolicyModel } from "../compiler/model.js";
import { compilePolicy } from "../compiler/pipeline.js";
import { explainPolicy } from "../compiler/explain.js";
import { planPolicy } from "../compiler/plan.js";
import { simulateEvents } from "../compiler/simulate-events.js";
import { formatFile } from "../language/formatter.js";
import { parseFile } from "../language/parse.js";
import { printAction } from "../language/printer.js";
import { sourceFile } from "../language/source.js";
import type { Rule } from "../language/syntax-tree.js";
import { children } from "../language/visitor.js";
import { EVENT_BY_NAME, KEYWORDS, wordHelp } from "../language/vocabulary.js";
import { diagnose } from "./helpers.js";

const DECLS = 'interface wifi = "wlan0"\ninterface lte = "wwan0", "usb*"\nendpoint wifi subflow\nendpoint lte subflow backup\n';

function ruleOf(text: string): Rule {
  const { tree, diagnostics } = parseFile(sourceFile("t.policy", text));
  expect(diagnostics).toEqual([]);
  return tree.statements[0] as Rule;
}

function model(text: string): PolicyModel {
  const result = compilePolicy([{ name: "p.policy", text: DECLS + text }]);
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return result.model as PolicyModel;
}

const found = (text: string) => diagnose(DECLS + text).map((d) => ({ code: d.code, line: d.line, column: d.column, endColumn: d.endColumn, message: d.message }));

describe("subflow_stale and subflow_recovered", () => {
  it("are subflow events noticed by the daemon, with the conditions of subflow_established", () => {
    for (const name of ["subflow_stale", "subflow_recovered"]) {
      const event = EVENT_BY_NAME.get(name);
      expect(event).toMatchObject({ source: "daemon", subject: "subflow", hasConnection: true, takesInterface: false });
      expect(event?.conditions).toEqual(EVENT_BY_NAME.get("subflow_established")?.conditions);
      expect(wordHelp(name)).toMatch(/^Event `subflow_/);
    }
  });

  it("check like subflow_established: its tests are allowed, `error` is not", () => {
    expect(found('on subflow_stale if iface wifi and not backup and remote port 443 and subflows < 3 then create via lte, log "stale"')).toEqual([]);
    expect(found('on subflow_recovered if iface wifi then set lte backup, destroy via lte')).toEqual([]);
    expect(found('on subflow_stale if error timeout then log "x"')).toMatchObject([{ code: "E201", line: 5, column: 21 }]);
    expect(found('on subflow_stal then log "x"')).toMatchObject([{ code: "E200", message: "unknown event 'subflow_stal'" }]);
  });

  it("are read from JSON events and replayed by simulate, which needs no kernel for them", () => {
    const conn = { token: "7f6f626c", family: "ipv4", saddr: "10.0.0.2", daddr: "203.0.113.80", sport: 43390, dport: 443, locid: 0, remid: 0, backup: false, ifindex: 3, ifname: "wlan0", time: 1 } as const;
    expect(readEvent({ event: "subflow_stale", ...conn })).toEqual({ event: "subflow_stale", ...conn });
    expect(readEvent({ event: "subflow_recovered", ...conn })).toEqual({ event: "subflow_recovered", ...conn });
    const outcomes = simulateEvents(model('on subflow_stale if iface wifi then set lte active\non subflow_recovered if iface wifi then set lte backup\n'), [
      { event: "established", ...conn },
      { event: "subflow_stale", ...conn },
      { event: "subflow_recovered", ...conn },
    ]);
    expect(outcomes.slice(1).map((o) => [o.fired.map((r) => r.line), o.actions.map((a) => a.op === "set" && a.backup)])).toEqual([
      [[5], [false]],
      [[6], [true]],
    ]);
  });

  it("need the userspace path manager, and explain says the daemon notices them", () => {
    const m = model('on subflow_stale if iface wifi then set lte active\n');
    const plan = planPolicy(m);
    expect(plan.strategy).toBe("userspace");
    expect(plan.reasons).toEqual(["p.policy:5: 'on subflow_stale' is noticed by the daemon (the kernel sends no such event) and acts on one connection at a time"]);
    expect(explainPolicy(m, plan)).toContain("p.policy:5: on subflow_stale (noticed by the daemon, which samples the subflows: the kernel sends no such event), if the interface is wifi:");
    // A log-only rule changes nothing in the kernel: the in-kernel path manager stays.
    expect(planPolicy(model('on subflow_stale then log "stale"\n')).strategy).toBe("kernel");
  });
});

describe("the storm lint on subflow_stale", () => {
  it("warns when the new subflow can go stale and fire the rule again, whatever the delay", () => {
    expect(found("on subflow_stale then create via lte")).toMatchObject([{ code: "W600", line: 5, column: 23, endColumn: 37, message: expect.stringContaining("can go stale too") }]);
    expect(found("on subflow_stale if iface lte then create via lte after 5s")).toMatchObject([{ code: "W600" }]);
    expect(found("on subflow_stale if not backup then create via lte")).toMatchObject([{ code: "W600" }]);
  });

  it("says nothing when the new subflow cannot match, a guard bounds it, or the rule closes the stale one", () => {
    expect(found("on subflow_stale if iface wifi then create via lte")).toEqual([]);
    expect(found("on subflow_stale if not backup then create via lte backup")).toEqual([]);
    expect(found("on subflow_stale if subflows < 3 then create via lte")).toEqual([]);
    expect(found("on subflow_stale then destroy, create via lte")).toEqual([]);
    expect(found("on subflow_stale then set lte active")).toEqual([]);
  });

  it("never warns on subflow_recovered: a new subflow must go stale first", () => {
    expect(found("on subflow_recovered then create via lte")).toEqual([]);
  });

  it("lets a `create ... retry` on subflow_closed be: its subflow's failures go to its retries, not to the rules", () => {
    expect(found("on subflow_closed if iface lte then create via lte retry 3")).toEqual([]);
    expect(found("on subflow_closed if iface lte then create via lte")).toMatchObject([{ code: "W600" }]);
    expect(found("on subflow_established then create retry 3")).toMatchObject([{ code: "W600" }]);
  });
});

describe("create ... retry N: grammar", () => {
  it("reads `retry` after the options, before or after `after`", () => {
    const one = ruleOf("on established then create via lte backup after 2s retry 3").actions[0];
    const two = ruleOf("on established then create via lte backup retry 3 after 2s").actions[0];
    for (const action of [one, two]) expect(action).toMatchObject({ kind: "Create", via: { text: "lte" }, backup: true, after: { value: 2, unit: "s" }, retry: { value: 3, unit: undefined } });
    expect(ruleOf("on established then create retry 1").actions[0]).toMatchObject({ after: undefined, retry: { value: 1 } });
    expect(ruleOf("on established then create via lte").actions[0]?.retry).toBeUndefined();
  });

  it("spans the whole action, and visits `after` and `retry` in the order written", () => {
    const text = "on established then create via lte retry 3 after 2s, log \"x\"";
    const action = ruleOf(text).actions[0];
    expect(text.slice(action?.span.start, action?.span.end)).toBe("create via lte retry 3 after 2s");
    expect(children(action as never).map((c) => (c as { text: string }).text)).toEqual(["lte", "3", "2s"]);
  });

  it("is printed after `after`, whichever came first, and formatting keeps it", () => {
    expect(printAction(ruleOf("on established then create backup via lte retry 3 after 2s").actions[0] as never)).toBe("create via lte backup after 2s retry 3");
    const text = "on subflow_closed if iface wifi\n  then create via lte retry 2 after 1s,\n  log \"x\"   retry 1\n";
    const formatted = formatFile(parseFile(sourceFile("t.policy", text)).tree);
    expect(formatted).toBe('on subflow_closed if iface wifi then create via lte after 1s retry 2, log "x" retry 1\n');
    expect(formatFile(parseFile(sourceFile("t.policy", formatted)).tree)).toBe(formatted);
  });

  it("is a reserved word with help", () => {
    expect(KEYWORDS).toContain("retry");
    expect(wordHelp("retry")).toContain("1-10");
    expect(diagnose('interface retry = "wlan0"')).toMatchObject([{ code: "E003" }]);
  });

  it("reports a missing or wrong count as a syntax error and goes on", () => {
    const d = diagnose(`${DECLS}on established then create via lte retry\non established if iface lte then create via wifi retry lots\non iface_up wifi then log "fine"\n`);
    expect(d.map((x) => [x.code, x.line, x.message])).toEqual([
      ["E003", 5, "expected a number after 'retry'"],
      ["E003", 6, "expected a number but found 'lots'"],
    ]);
  });
});

describe("create ... retry N: checker", () => {
  it("takes 1 to 10", () => {
    expect(found("on established then create via lte retry 1")).toEqual([]);
    expect(found("on established then create via lte retry 10")).toEqual([]);
    expect(found("on established then create via lte retry 0")).toEqual([
      { code: "E302", line: 5, column: 42, endColumn: 43, message: "a retry count must be a whole number from 1 to 10, found 0" },
    ]);
    expect(found("on established then create via lte retry 11")).toEqual([
      { code: "E302", line: 5, column: 42, endColumn: 44, message: "a retry count must be a whole number from 1 to 10, found 11" },
    ]);
    expect(found("on established then create via lte retry 2.5")).toMatchObject([{ code: "E302" }]);
    expect(found("on established then create via lte retry 3s")).toMatchObject([{ code: "E300", column: 42, message: "a retry count takes no unit, found 's'" }]);
  });

  it("belongs to create only (E212), at the count", () => {
    expect(found('on established then log "x" retry 3')).toEqual([
      { code: "E212", line: 5, column: 35, endColumn: 36, message: "'retry' belongs to 'create': a 'log' is not tried again" },
    ]);
    expect(found("on iface_down wifi then set lte active retry 2, destroy via wifi after 1s retry 1").map((d) => [d.code, d.column])).toEqual([
      ["E212", 46],
      ["E212", 81],
    ]);
  });

  it("may be given once (E209), as `after` may", () => {
    expect(found("on established then create via lte retry 2 retry 3")).toMatchObject([{ code: "E209", line: 5, column: 50, endColumn: 51, message: "'retry' given more than once" }]);
    expect(found("on established then create via lte after 1s retry 2 after 2s")).toMatchObject([{ code: "E209", column: 59, message: "'after' given more than once" }]);
  });

  it("lowers to the model as the number of retries", () => {
    const m = model("on established then create via lte after 2s retry 3, create via wifi\n");
    expect(m.rules[0]?.actions).toMatchObject([
      { op: "create", via: "lte", afterUs: 2_000_000, retry: 3 },
      { op: "create", via: "wifi" },
    ]);
    expect(m.rules[0]?.actions[1]).not.toHaveProperty("retry");
  });
});
