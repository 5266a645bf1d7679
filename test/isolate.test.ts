// `isolate IFACE, ...` on the host: the grammar and its canonical layout, the zone
// checks with their positions, the model, the plan and explain, the pure zone core
// the daemon and simulate share, and the editor's words for it. What the kernel ends
// up with is test/isolate-lab.test.ts's job.
import { describe, expect, it } from "vitest";
import { explainPolicy } from "../compiler/explain.js";
import { kernelGaps } from "../compiler/kernel-gaps.js";
import { interfaceMatcher } from "../compiler/interfaces.js";
import type { PolicyModel } from "../compiler/model.js";
import { planPolicy } from "../compiler/plan.js";
import { outcomeJson, simulateEvents } from "../compiler/simulate-events.js";
import { actionCrossing, crossingInterface, DEFAULT_ZONE, zonesFor } from "../compiler/zones.js";
import { simulateEvents as playgroundSimulate } from "../editor/simulate.js";
import { compilePolicy } from "../compiler/pipeline.js";
import { formatFile } from "../language/formatter.js";
import { parseFile } from "../language/parse.js";
import { analyzePolicy } from "../language/service/analysis.js";
import { completionsAt } from "../language/service/completion.js";
import { referencesAt } from "../language/service/navigation.js";
import { sourceFile } from "../language/source.js";
import { wordHelp } from "../language/vocabulary.js";
import { diagnose as diagnoseAll } from "./helpers.js";

/** The findings, the unused-interface warnings aside (the small policies here leave some unused). */
const diagnose = (text: string) => diagnoseAll(text).filter((d) => d.code !== "W602");

const DECLS = 'interface vpn = "wg0"\ninterface wifi = "wlan0"\ninterface lte = "wwan0"\n';

function model(text: string): PolicyModel {
  const result = compilePolicy([{ name: "zones.policy", text }]);
  if (!result.model) throw new Error(JSON.stringify(result.diagnostics));
  return result.model;
}

function format(text: string): string {
  return formatFile(parseFile(sourceFile("f.policy", text)).tree);
}

describe("isolate: grammar and layout", () => {
  it("parses one or several interfaces and prints them canonically", () => {
    const tree = parseFile(sourceFile("f.policy", `${DECLS}isolate vpn\nisolate   wifi ,lte\n`));
    expect(tree.diagnostics).toEqual([]);
    const zones = tree.tree.statements.filter((s) => s.kind === "Isolate");
    expect(zones.map((z) => (z.kind === "Isolate" ? z.interfaces.map((n) => n.text) : []))).toEqual([["vpn"], ["wifi", "lte"]]);
    expect(format(`${DECLS}isolate   wifi ,\n  lte  # radios\n`)).toBe(`${DECLS}isolate wifi, lte  # radios\n`);
    expect(format(format(`${DECLS}isolate wifi, lte\n`))).toBe(`${DECLS}isolate wifi, lte\n`);
  });

  it("is a reserved word and needs at least one interface", () => {
    expect(diagnose(`${DECLS}isolate\n`).map((d) => d.code)).toEqual(["E003"]);
    expect(diagnose(`${DECLS}isolate vpn,\n`).map((d) => d.code)).toEqual(["E003"]);
    expect(diagnose('interface isolate = "x"\n').map((d) => d.code)).toContain("E003");
  });

  it("names declared interfaces (E100), and counts as a use (no W602)", () => {
    expect(diagnose(`${DECLS}isolate vpm\nendpoint wifi signal\nendpoint lte signal\n`)).toEqual([
      expect.objectContaining({ code: "E100", line: 4, column: 9, endColumn: 12, hint: "did you mean 'vpn'?" }),
    ]);
    expect(diagnose(`${DECLS}isolate vpn, wifi, lte\n`)).toEqual([]);
  });

  it("goes into the model, one zone per statement, in source order", () => {
    expect(model(`${DECLS}isolate vpn\nisolate wifi, lte\n`).zones).toEqual([
      { interfaces: ["vpn"], at: { file: "zones.policy", line: 4, column: 1 } },
      { interfaces: ["wifi", "lte"], at: { file: "zones.policy", line: 5, column: 1 } },
    ]);
    expect(model(`${DECLS}endpoint vpn signal\nendpoint wifi signal\nendpoint lte signal\n`).zones).toBeUndefined();
  });
});

describe("isolate: zone checks", () => {
  it("E800: an interface in two zones, with the first place as a note", () => {
    const found = diagnose(`${DECLS}isolate vpn\nisolate wifi, vpn\nendpoint lte signal\n`);
    expect(found).toEqual([expect.objectContaining({ code: "E800", line: 5, column: 15, endColumn: 18, message: "interface 'vpn' is in two zones" })]);
    // Listed twice in one statement is still one zone.
    expect(diagnose(`${DECLS}isolate vpn, vpn\nendpoint wifi signal\nendpoint lte signal\n`)).toEqual([]);
  });

  it("E801: a rule whose iface test leaves only another zone, at the action's interface", () => {
    const found = diagnose(`${DECLS}isolate vpn\non established if iface vpn then create via wifi\n`);
    expect(found).toEqual([
      expect.objectContaining({
        code: "E801",
        line: 5,
        column: 45,
        endColumn: 49,
        message: "'create via wifi' crosses a zone: this rule fires only for connections of the zone 'isolate vpn', and 'wifi' is in the default zone (the interfaces no 'isolate' names)",
      }),
    ]);
    expect(diagnose(`${DECLS}isolate vpn\non subflow_closed if iface wifi or iface lte then announce vpn\n`).map((d) => d.code)).toEqual(["E801"]);
    expect(diagnose(`${DECLS}isolate vpn\nisolate wifi\non established if iface wifi then create via vpn\n`).map((d) => d.code)).toEqual(["E801"]);
  });

  it("no finding where the rule's iface test keeps it in the action's zone", () => {
    const policy = `${DECLS}isolate vpn\non established if iface wifi then create via lte\non established if iface vpn then create, announce vpn\non subflow_closed if not iface vpn and side client then create via wifi after 1s\n`;
    expect(diagnose(policy)).toEqual([]);
    // `not iface` leaves the default zone's undeclared interfaces: still the default zone only.
    expect(diagnose(`${DECLS}isolate vpn\nisolate wifi\non established if not iface vpn and not iface wifi then create via lte\n`)).toEqual([]);
  });

  it("W800: a rule that fires for several zones; a source address whose zone is known at run time", () => {
    expect(diagnose(`${DECLS}isolate vpn\non established then create via lte\n`)).toEqual([
      expect.objectContaining({ code: "W800", line: 5, column: 32, endColumn: 35, severity: "warning" }),
    ]);
    expect(diagnose(`${DECLS}isolate vpn\non established if side client or iface vpn then announce wifi\n`).map((d) => d.code)).toEqual(["W800"]);
    expect(diagnose(`${DECLS}isolate vpn\non established if iface vpn then create from 10.0.3.1\n`)).toEqual([
      expect.objectContaining({ code: "W800", line: 5, column: 46, message: "the zone of 10.0.3.1 is known only at run time: 'create' is refused for a connection of another zone" }),
    ]);
  });

  it("says nothing on events that tell no connection's interface: the daemon keeps each action to its zone", () => {
    expect(diagnose(`${DECLS}isolate vpn\non iface_up wifi then create via wifi\non announced then create via lte to announced\non address_added vpn then announce vpn\n`)).toEqual([]);
  });

  it("W800: a subflow endpoint alone in its zone never opens a subflow (a warning: the policy still runs); not with other flags or other members", () => {
    expect(diagnose(`${DECLS}isolate vpn\nendpoint vpn subflow backup\nendpoint wifi signal\nendpoint lte signal\n`)).toEqual([
      expect.objectContaining({ code: "W800", severity: "warning", line: 5, column: 10, endColumn: 13, message: "endpoint 'vpn' never opens a subflow: it opens them for connections on other interfaces, and the zone 'isolate vpn' has no other" }),
    ]);
    expect(diagnose(`${DECLS}isolate vpn, wifi\nendpoint vpn subflow\nendpoint lte signal\n`)).toEqual([]);
    expect(diagnose(`${DECLS}isolate vpn\nendpoint vpn signal\nendpoint wifi subflow\nendpoint lte subflow\n`)).toEqual([]);
  });

  it("skips the zone checks of a policy with a syntax error (a missing isolate would make them false)", () => {
    expect(diagnose(`${DECLS}isolate vpn\nisolate vpn\non established if then log "x"\n`).map((d) => d.code)).toEqual(["E003"]);
  });
});

describe("isolate: the editor's words", () => {
  const names = { interfaces: ["vpn", "wifi", "lte"].map((name, i) => ({ name, patterns: [name], file: "f.policy", line: i + 1 })), schedulers: [] };
  const labels = (text: string) => completionsAt(text, names).map((i) => i.label);

  it("offers the statement, then interfaces not listed yet", () => {
    expect(labels("")).toContain("isolate");
    expect(labels(`${DECLS}isolate `)).toEqual(["vpn", "wifi", "lte"]);
    expect(labels(`${DECLS}isolate vpn, `)).toEqual(["wifi", "lte"]);
    expect(labels(`${DECLS}isolate vpn `)).toEqual([]);
  });

  it("counts the names of an isolate as uses: references and rename find them", () => {
    const analysis = analyzePolicy([{ name: "z.policy", text: `${DECLS}isolate vpn, lte\nendpoint wifi signal\n` }]);
    expect(referencesAt(analysis, "z.policy", { line: 1, column: 12 }).map((l) => `${l.line}:${l.column}`)).toEqual(["1:11", "4:9"]);
    expect(referencesAt(analysis, "z.policy", { line: 4, column: 15 }).map((l) => `${l.line}:${l.column}`)).toEqual(["3:11", "4:14"]);
  });

  it("has hover help", () => {
    expect(wordHelp("isolate")).toMatch(/zone/);
  });
});

describe("isolate: plan and explain", () => {
  it("zones need the userspace path manager, and explain says why", () => {
    const m = model(`${DECLS}isolate vpn\nendpoint wifi subflow\nendpoint lte subflow\n`);
    const plan = planPolicy(m);
    expect(plan.strategy).toBe("userspace");
    expect(plan.reasons).toEqual([expect.stringMatching(/^zones\.policy:4: 'isolate' keeps each connection's subflows in one zone, which the in-kernel path manager cannot: it accepts joins on every address/)]);
    expect(plan.zones).toEqual([{ at: { file: "zones.policy", line: 4, column: 1 }, interfaces: ["vpn"], enforced_by: "daemon" }]);
    const text = explainPolicy(m, plan);
    expect(text).toContain("Path manager: the userspace path manager");
    expect(text).toContain("because zones.policy:4: 'isolate' keeps each connection's subflows in one zone");
    expect(text).toContain("zones.policy:4: zone vpn: a connection whose first subflow is on it keeps all its subflows there");
    expect(text).toContain("a join the peer opens across a zone is closed as soon as its event arrives");
    expect(text).toContain("zones.policy:5: endpoint every address of wifi (subflow), carried out by the daemon, for the connections of the default zone only.");
  });

  it("keeps the in-kernel path manager where the limits leave it no subflow to add", () => {
    const m = model(`${DECLS}isolate vpn\nlimits subflows 0 add_addr_accepted 0\nendpoint wifi signal\nendpoint lte signal\n`);
    const plan = planPolicy(m);
    expect(plan.strategy).toBe("kernel");
    expect(plan.zones?.[0]?.enforced_by).toBe("kernel");
    expect(explainPolicy(m, plan)).toContain("'limits subflows 0 add_addr_accepted 0' leaves it no subflow to add");
    expect(planPolicy(model(`${DECLS}isolate vpn\nlimits subflows 0\nendpoint wifi signal\nendpoint lte signal\n`)).strategy).toBe("userspace");
  });

  it("says at start where the kernel does not bind the daemon's subflows to their interface (Linux 6.1)", () => {
    const m = model(`${DECLS}isolate vpn\nendpoint wifi subflow\nendpoint lte subflow\n`);
    expect(kernelGaps(m, { listenerEvents: true, laminarEndpoints: true, subflowCreateFlags: false })).toEqual([
      expect.objectContaining({ at: expect.objectContaining({ line: 4 }), feature: "subflow_create_flags", message: expect.stringMatching(/^the subflows the daemon opens are not bound to their interface on this kernel/) }),
    ]);
    expect(kernelGaps(m, { listenerEvents: true, laminarEndpoints: true, subflowCreateFlags: true })).toEqual([]);
  });

  it("a policy without isolate plans as before", () => {
    const plan = planPolicy(model(`${DECLS}endpoint vpn signal\nendpoint wifi subflow\nendpoint lte subflow\n`));
    expect(plan.strategy).toBe("kernel");
    expect(plan.zones).toBeUndefined();
  });
});

describe("isolate: the zone core", () => {
  const policy = model('interface vpn = "wg*"\ninterface wifi = "wlan0"\ninterface lte = "wwan0"\ninterface lab = "lab[0-9]"\nisolate vpn\nisolate lab, wifi\nendpoint lte signal\n');
  const zones = zonesFor(policy, interfaceMatcher(policy));
  const create = { op: "create", backup: false, scope: "connection", afterUs: 0, at: { file: "f", line: 1, column: 1 } } as const;

  it("puts kernel interfaces in zones through the interfaces' patterns; the rest in the default zone", () => {
    expect([zones.ofIfname("wg0"), zones.ofIfname("lab3"), zones.ofIfname("wlan0"), zones.ofIfname("wwan0"), zones.ofIfname("eth0"), zones.ofIfname(undefined)]).toEqual([0, 1, 1, DEFAULT_ZONE, DEFAULT_ZONE, DEFAULT_ZONE]);
    expect(zones.describe(1)).toBe("the zone 'isolate lab, wifi' (zones.policy:6)");
    expect(zones.describe(DEFAULT_ZONE)).toBe("the default zone");
  });

  it("a subflow crosses when its local or its remote interface is in another zone", () => {
    expect(crossingInterface(zones, 0, { local: "wg0", remote: "wg0" })).toBeUndefined();
    expect(crossingInterface(zones, 0, { local: "wg0" })).toBeUndefined();
    expect(crossingInterface(zones, 0, { local: "wlan0" })).toBe("wlan0");
    expect(crossingInterface(zones, 0, { local: "wg0", remote: "wwan0" })).toBe("wwan0");
    expect(crossingInterface(zones, DEFAULT_ZONE, { local: "wwan0", remote: "eth0" })).toBeUndefined();
    expect(crossingInterface(zones, 1, { local: "lab1", remote: "wlan0" })).toBeUndefined();
  });

  it("refuses creates and announcements across a zone, with the reason; other actions pass", () => {
    expect(actionCrossing(zones, 0, create, { local: "wwan0" })).toBe("the subflow would use wwan0, in the default zone, and the connection is in the zone 'isolate vpn' (zones.policy:5)");
    expect(actionCrossing(zones, 0, { ...create, op: "announce", iface: "wifi" }, { local: "wlan0" })).toMatch(/^the peer would join over wlan0, in the zone 'isolate lab, wifi'/);
    expect(actionCrossing(zones, 0, create, { local: "wg1" })).toBeUndefined();
    expect(actionCrossing(zones, 0, { ...create, op: "set", iface: "lte", backup: true }, { local: "wwan0" })).toBeUndefined();
  });

  it("refuses nothing without isolate", () => {
    const plain = model('interface wifi = "wlan0"\nendpoint wifi subflow\n');
    const none = zonesFor(plain, interfaceMatcher(plain));
    expect(none.active).toBe(false);
    expect(crossingInterface(none, 3, { local: "wlan0" })).toBeUndefined();
  });
});

describe("isolate: simulate and the playground, through the same core", () => {
  const policy = model(`${DECLS}isolate vpn\nendpoint wifi subflow\nendpoint lte subflow\non announced then create via wifi to announced\n`);
  const vpn = { token: "0000000a", family: "ipv4", saddr: "10.0.3.1", daddr: "10.0.3.2", sport: 40000, dport: 443, server_side: false, ifname: "wg0" } as const;
  const wifi = { ...vpn, token: "0000000b", saddr: "10.0.1.1", daddr: "10.0.1.2", ifname: "wlan0" } as const;
  const session = [
    { event: "established", ...vpn },
    { event: "established", ...wifi },
    { event: "announced", token: vpn.token, daddr: "10.0.1.2", remid: 1 },
    { event: "subflow_established", ...vpn, saddr: "10.0.2.1", sport: 40001, ifname: "wwan0" },
  ];

  it("simulate: the endpoints and the rule refused for the vpn connection, with why; the wifi connection gets its lte subflow; a crossing join is closed", () => {
    const [vpnUp, wifiUp, announced, join] = simulateEvents(policy, session).map(outcomeJson);
    expect(vpnUp).toMatchObject({ actions: [], refused: [expect.objectContaining({ op: "create", via: "wifi" }), expect.objectContaining({ op: "create", via: "lte" })] });
    expect(String((vpnUp!["refused"] as { reason: string }[])[0]!.reason)).toBe("the subflow would use wifi, in the default zone, and the connection is in the zone 'isolate vpn' (zones.policy:4)");
    expect(wifiUp).toMatchObject({ actions: [expect.objectContaining({ op: "create", via: "lte" })] });
    expect(wifiUp!["refused"]).toBeUndefined();
    expect(announced).toMatchObject({ rules: ["zones.policy:7"], actions: [], refused: [expect.objectContaining({ via: "wifi", to: "10.0.1.2" })] });
    expect(join).toMatchObject({ rules: [], actions: [], zone_close: expect.stringMatching(/^the subflow uses wwan0, in the default zone, and the connection is in the zone 'isolate vpn'/) });
  });

  it("the playground's simulator shows the same", () => {
    const steps = playgroundSimulate(policy, session);
    expect(steps[2]?.actions.map((a) => a.command)).toEqual(["refused"]);
    expect(steps[2]?.actions[0]?.summary).toMatch(/^refused: .*the subflow would use wifi, in the default zone/);
    expect(steps[3]?.actions).toEqual([expect.objectContaining({ command: "SUBFLOW_DESTROY", summary: expect.stringMatching(/^across a zone: the subflow uses wwan0/) })]);
  });
});

describe("isolate: the daemon's view of a subflow's interfaces (ZoneGuard, no kernel)", async () => {
  const { ZoneGuard } = await import("../runtime/daemon/zone-guard.js");
  const link = (ifindex: number, ifname: string, addresses: [string, number][]) => ({
    ifindex,
    ifname,
    flags: 0,
    up: true,
    addresses: addresses.map(([address, prefixlen]) => ({ ifindex, family: address.includes(":") ? ("ipv6" as const) : ("ipv4" as const), address, prefixlen, scope: 0, tentative: false })),
  });
  const links = [
    link(2, "wg0", [["10.0.3.1", 24], ["fd00:3::1", 64], ["fe80::1", 64]]),
    link(3, "wlan0", [["10.0.1.1", 24], ["10.0.0.1", 16], ["fd00:1::1", 64], ["fe80::2", 64]]),
    link(4, "wwan0", [["10.0.2.1", 24]]),
  ];
  const tracker = {
    list: () => links,
    nameOf: (i: number) => links.find((l) => l.ifindex === i)?.ifname,
    interfaceOf: (a: string) => links.find((l) => l.addresses.some((x) => x.address === a)),
  };
  const policy = model(`${DECLS}isolate vpn\nendpoint wifi subflow\nendpoint lte subflow\n`);
  const matcher = interfaceMatcher(policy);
  const guard = new ZoneGuard({ tracker, policy: () => ({ model: policy, matcher }) } as unknown as ConstructorParameters<typeof ZoneGuard>[0]);
  const vpnConnection = { token: "1", saddr: "10.0.3.1", serverSide: true, established: true, subflows: [], announced: [] };

  it("the remote interface is the one whose network holds the address, the longest prefix first; link-local ones never", () => {
    expect(guard.remoteInterface("10.0.3.9")).toBe("wg0");
    expect(guard.remoteInterface("10.0.1.7")).toBe("wlan0");
    expect(guard.remoteInterface("10.0.7.7")).toBe("wlan0"); // only the /16
    expect(guard.remoteInterface("fd00:1::9")).toBe("wlan0");
    expect(guard.remoteInterface("fe80::9")).toBeUndefined();
    expect(guard.remoteInterface("192.0.2.1")).toBeUndefined();
  });

  it("a subflow crosses by its local address, its bound device, or its remote network", () => {
    expect(guard.crossing(vpnConnection, { saddr: "10.0.3.1", daddr: "10.0.3.2" })).toBeUndefined();
    expect(guard.crossing(vpnConnection, { saddr: "10.0.1.1", daddr: "10.0.3.2" })).toBe("wlan0");
    expect(guard.crossing(vpnConnection, { saddr: "10.0.3.1", daddr: "10.0.2.2" })).toBe("wwan0");
    expect(guard.crossing(vpnConnection, { saddr: "10.0.3.1", daddr: "192.0.2.1", ifindex: 4 })).toBe("wwan0");
    expect(guard.crossing(vpnConnection, { saddr: "fd00:3::1", daddr: "fd00:1::2" })).toBe("wlan0");
    expect(guard.crossing({ ...vpnConnection, saddr: "10.0.1.1" }, { saddr: "10.0.2.1", daddr: "10.0.1.2" })).toBeUndefined();
  });
});
