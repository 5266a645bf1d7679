// The decision core and the lowering, on events shaped like `monitor --format json`.
import { describe, expect, it } from "vitest";
import { ConnectionTable } from "../compiler/connections.js";
import { decide } from "../compiler/decide.js";
import { explainPolicy } from "../compiler/explain.js";
import { interfaceMatcher } from "../compiler/interfaces.js";
import type { PolicyModel } from "../compiler/model.js";
import { compilePolicy } from "../compiler/pipeline.js";
import { planPolicy } from "../compiler/plan.js";

function model(text: string): PolicyModel {
  const result = compilePolicy([{ name: "p.policy", text }]);
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return result.model as PolicyModel;
}

const LAPTOP = `interface wifi = "wlan0"
interface lte = "wwan0", "usb*"
limits subflows 4 add_addr_accepted 2
endpoint wifi subflow
endpoint lte subflow backup
on established if iface wifi and remote port 443 then create via lte backup
on subflow_closed if iface wifi then create via lte
on subflow_closed if iface lte and error timeout then create via lte after 2s
on announced if remote in 192.0.2.0/24 then create via wifi to announced
on iface_down wifi then set lte active
on iface_up wifi then set lte backup, log "wifi is back"
on established if side server then announce wifi port 8443
`;

const connection = { token: "7f6f626c", family: "ipv4", saddr: "10.1.1.1", daddr: "10.1.1.2", sport: 43390, dport: 443, locid: 0, remid: 0, ifname: "wlan0", ifindex: 3 } as const;

function run(text: string, events: object[]) {
  const m = model(text);
  const table = new ConnectionTable();
  const match = interfaceMatcher(m);
  return events.map((e) => {
    const event = e as Parameters<typeof decide>[1];
    return decide(m, event, table.apply(event), match);
  });
}

describe("decision core", () => {
  it("tries only the rules of the event, in policy order, the first match winning, on any number of rules", () => {
    // Rules of other events between those of `established` (the core indexes rules by
    // event: the order within an event must survive it, and other events' rules never fire).
    const rules = [
      'interface wifi = "wlan0"',
      'interface lte = "wwan0"',
      ...Array.from({ length: 200 }, (_, i) => `on subflow_closed if remote port ${i + 1} then log "closed ${i}"`),
      "on established if remote port 80 then create via lte",
      ...Array.from({ length: 200 }, (_, i) => `on closed if remote port ${i + 1} then log "gone ${i}"`),
      "on established if iface wifi then create via lte backup",
      "on established then log \"any\"",
    ].join("\n");
    const m = model(`${rules}\n`);
    const table = new ConnectionTable();
    const match = interfaceMatcher(m);
    const decideOn = (e: object) => decide(m, e as Parameters<typeof decide>[1], table.apply(e as Parameters<typeof decide>[1]), match);
    expect(decideOn({ event: "established", ...connection, server_side: false })).toMatchObject({ rule: { index: 401, at: { line: 404 } }, actions: [{ op: "create", backup: true }] });
    expect(decideOn({ event: "established", ...connection, token: "00000002", dport: 80, server_side: false })).toMatchObject({ rule: { index: 200 }, actions: [{ op: "create", backup: false }] });
    expect(decideOn({ event: "established", ...connection, token: "00000003", ifname: "eth0", server_side: false })).toMatchObject({ rule: { index: 402 }, actions: [{ op: "log" }] });
    // An event no rule is on: no rule, no actions (and the same answer the next time).
    for (let i = 0; i < 2; i++) expect(decideOn({ event: "subflow_established", ...connection })).toEqual({ rule: undefined, actions: [] });
    expect(decideOn({ event: "subflow_closed", ...connection, dport: 7 })).toMatchObject({ rule: { index: 6 } });
  });

  it("fires the first matching rule and resolves the action's operands from the connection", () => {
    const [created, established] = run(LAPTOP, [
      { event: "created", ...connection, server_side: false },
      { event: "established", ...connection, server_side: false },
    ]);
    expect(created?.rule).toBeUndefined();
    expect(established).toMatchObject({ rule: { index: 0, at: { line: 6 } }, actions: [{ op: "create", via: "lte", to: "10.1.1.2", port: 443, backup: true, token: "7f6f626c", scope: "connection" }] });
  });

  it("matches interface patterns (globs), errno names and delays", () => {
    const decisions = run(LAPTOP, [
      { event: "established", ...connection },
      { event: "subflow_established", ...connection, saddr: "10.2.2.1", sport: 5000, ifname: "usb0", locid: 2 },
      { event: "subflow_closed", ...connection, saddr: "10.2.2.1", sport: 5000, ifname: "usb0", locid: 2, error: 110 },
      { event: "subflow_closed", ...connection, saddr: "10.2.2.1", sport: 5001, ifname: "usb0", locid: 2, error: 104 },
    ]);
    expect(decisions[2]).toMatchObject({ rule: { index: 2 }, actions: [{ op: "create", via: "lte", afterUs: 2_000_000 }] });
    expect(decisions[3]?.rule).toBeUndefined();
  });

  it("tests `remote` on the announced address and creates a subflow to it", () => {
    const [, announced, other] = run(LAPTOP, [
      { event: "established", ...connection, dport: 80 },
      { event: "announced", token: connection.token, remid: 1, family: "ipv4", daddr: "192.0.2.7", dport: 8080 },
      { event: "announced", token: connection.token, remid: 2, family: "ipv4", daddr: "198.51.100.7" },
    ]);
    expect(announced).toMatchObject({ rule: { index: 3 }, actions: [{ op: "create", via: "wifi", to: "192.0.2.7", port: 8080 }] });
    expect(other?.rule).toBeUndefined();
  });

  it("reads the side from server_side and applies interface-event actions to every connection", () => {
    const [server, down, up] = run(LAPTOP, [
      { event: "established", ...connection, dport: 80, server_side: true },
      { event: "iface_down", ifname: "wlan0", ifindex: 3 },
      { event: "iface_up", ifname: "wlan0", ifindex: 3 },
    ]);
    expect(server).toMatchObject({ rule: { index: 6 }, actions: [{ op: "announce", iface: "wifi", port: 8443 }] });
    expect(down).toMatchObject({ rule: { index: 4 }, actions: [{ op: "set", iface: "lte", backup: false, scope: "every_connection" }] });
    expect(up?.actions.map((a) => a.op)).toEqual(["set", "log"]);
  });

  it("counts subflows for guards and forgets a connection on closed", () => {
    const text = `interface lte = "wwan0"\nendpoint lte subflow\non subflow_closed if subflows < 2 then create via lte after 1s\n`;
    const table = new ConnectionTable();
    const m = model(text);
    const match = interfaceMatcher(m);
    const events = [
      { event: "established", ...connection },
      { event: "subflow_established", ...connection, sport: 5000 },
      { event: "subflow_established", ...connection, sport: 5001 },
      { event: "subflow_closed", ...connection, sport: 5001 },
      { event: "subflow_closed", ...connection, sport: 5000 },
    ];
    const fired = events.map((e) => decide(m, e, table.apply(e), match).rule !== undefined);
    expect(fired).toEqual([false, false, false, false, true]);
    table.apply({ event: "closed", token: connection.token });
    expect(table.connections.size).toBe(0);
  });
});

describe("lowering", () => {
  it("uses the in-kernel path manager when rules only change endpoints on interface events", () => {
    const plan = planPolicy(model(`interface wifi = "wlan0"\ninterface lte = "wwan0"\nlimits subflows 2\nendpoint wifi subflow\non iface_down wifi then set lte active, create via lte\non iface_up wifi then set lte backup, withdraw lte\n`));
    expect(plan.strategy).toBe("kernel");
    expect(plan.limits).toMatchObject({ subflows: 2, enforced_by: "kernel", commands: [{ command: "SET_LIMITS" }] });
    expect(plan.endpoints).toMatchObject([{ iface: "wifi", carried_out_by: "kernel", commands: [{ command: "ADD_ADDR" }] }]);
    expect(plan.rules.map((r) => r.actions.flatMap((a) => a.commands.map((c) => c.command)))).toEqual([["SET_FLAGS", "ADD_ADDR"], ["SET_FLAGS", "DEL_ADDR"]]);
    expect(plan.reasons).toEqual(["every rule that acts reacts to interface events by changing endpoints, which the in-kernel path manager applies to all connections itself"]);
  });

  // explain said "every rule reacts to interface events by changing endpoints" of a
  // policy whose one rule logs on established (the systemd test's policy).
  it("says the rules only log when that is why the in-kernel path manager serves them", () => {
    const plan = planPolicy(model(`interface wifi = "eth*"\non established if iface wifi then log "one"\n`));
    expect(plan.strategy).toBe("kernel");
    expect(plan.reasons).toEqual(["the rules only log: the kernel's events serve them under the in-kernel path manager, and no rule acts on a connection"]);
  });

  it("switches to the userspace path manager, saying why, when a rule acts per connection", () => {
    const plan = planPolicy(model(LAPTOP));
    expect(plan.strategy).toBe("userspace");
    expect(plan.path_manager).toEqual({ sysctl: "net.mptcp.path_manager", value: "userspace", legacy: { sysctl: "net.mptcp.pm_type", value: 1 } });
    expect(plan.reasons[0]).toBe("p.policy:6: 'on established' acts on one connection at a time");
    expect(plan.endpoints[1]).toMatchObject({ iface: "lte", carried_out_by: "daemon", commands: [{ command: "SUBFLOW_CREATE", attributes: { flags: ["backup"] } }] });
    expect(plan.rules[0]?.actions[0]?.commands[0]?.command).toBe("SUBFLOW_CREATE");
  });

  it("keeps logging-only rules on MPTCP events in the kernel strategy", () => {
    expect(planPolicy(model(`on established then log "new connection"\n`)).strategy).toBe("kernel");
  });

  it("explains the plan in words, rule by rule", () => {
    const text = explainPolicy(model(LAPTOP));
    expect(text).toContain("Path manager: the userspace path manager");
    expect(text).toContain("p.policy:8: on subflow_closed, if the interface is lte and the subflow closed with timeout (110):\n  - open a subflow from lte to the peer's address, after 2s");
  });
});

describe("lowering of endpoint flags under the userspace path manager (regressions)", () => {
  it("keeps backup-only and laminar endpoints instead of dropping them", () => {
    const plan = planPolicy(model(`interface wifi = "wlan0"\ninterface lte = "wwan0"\nendpoint lte backup\nendpoint wifi subflow laminar\non established then create via wifi\n`));
    expect(plan.endpoints[0]).toMatchObject({ iface: "lte", commands: [{ command: "SET_FLAGS", attributes: { flags: ["backup"] } }] });
    expect(plan.endpoints[1]?.commands.map((c) => c.when)).toEqual(["on 'established', to the peer's address", "on 'announced', to the announced address when its family matches"]);
  });

  it("words subflow counts and singular limits properly in explain", () => {
    const text = explainPolicy(model(`interface lte = "wwan0"\nendpoint lte subflow\nlimits add_addr_accepted 1\non subflow_established if subflows < 2 then create via lte\n`));
    expect(text).toContain("at most 1 accepted announcement per connection");
    expect(text).toContain("if the number of subflows is below 2:");
  });
});
