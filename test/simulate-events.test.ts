// `simulate --events`: the decision core on a file of events, including a session
// recorded with `monitor --format json` on the real kernel (replayed as is).
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findMissingFacts } from "../compiler/missing-facts.js";
import type { PolicyEvent } from "../compiler/events.js";
import type { PolicyModel } from "../compiler/model.js";
import { compilePolicy } from "../compiler/pipeline.js";
import { CLI, ROOT, runCli } from "./helpers.js";
import { Lab } from "./lab/topology.js";

let dir: string;
const POLICY = 'interface wifi = "wifi", "wlan0"\ninterface lte = "lte", "wwan0"\non established if iface wifi then create via lte backup\non subflow_closed if iface lte and error timeout then create via lte after 2s\non iface_down wifi then set lte active\n';

beforeAll(() => {
  execFileSync(process.execPath, ["scripts/build.mjs"], { cwd: ROOT });
  dir = mkdtempSync(join(tmpdir(), "mptcp-policy-simulate-"));
  writeFileSync(join(dir, "p.policy"), POLICY);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const EVENTS = [
  { event: "created", token: "7f6f626c", family: "ipv4", saddr: "10.1.1.1", daddr: "10.1.1.2", sport: 43390, dport: 443, server_side: false, ifname: "wlan0" },
  { event: "established", token: "7f6f626c", family: "ipv4", saddr: "10.1.1.1", daddr: "10.1.1.2", sport: 43390, dport: 443, server_side: false, ifname: "wlan0" },
  { event: "iface_down", ifname: "wlan0", ifindex: 3 },
  { event: "subflow_closed", token: "7f6f626c", family: "ipv4", saddr: "10.1.2.1", daddr: "10.1.1.2", sport: 5000, dport: 443, error: 110, ifname: "wwan0" },
  { event: "closed", token: "7f6f626c" },
];
/** The same session as another tool would record it: no interface names. */
const WITHOUT_IFNAME = EVENTS.map(({ ifname: _, ...rest }: Record<string, unknown>) => rest);

describe("simulate --events", () => {
  it("prints, per event, the rule that fired and the actions with their delays, as JSON lines", () => {
    writeFileSync(join(dir, "events.jsonl"), EVENTS.map((e) => JSON.stringify(e)).join("\n"));
    const result = runCli(["simulate", join(dir, "p.policy"), "--events", join(dir, "events.jsonl"), "--format", "json"]);
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const at = (line: number) => `${join(dir, "p.policy")}:${line}`;
    expect(lines).toEqual([
      { event: "created", token: "7f6f626c", rules: [], actions: [] },
      { event: "established", token: "7f6f626c", rules: [at(3)], actions: [{ op: "create", via: "lte", to: "10.1.1.2", port: 443, backup: true, scope: "connection", after_ms: 0, rule: at(3) }] },
      { event: "iface_down", rules: [at(5)], actions: [{ op: "set", iface: "lte", backup: false, scope: "every_connection", after_ms: 0, rule: at(5) }] },
      { event: "subflow_closed", token: "7f6f626c", rules: [at(4)], actions: [{ op: "create", via: "lte", to: "10.1.1.2", port: 443, backup: false, scope: "connection", after_ms: 2000, rule: at(4) }] },
      { event: "closed", token: "7f6f626c", rules: [], actions: [] },
    ]);
  });

  it("prints the tries of a `create ... retry N`, attempt by attempt, and when the series gives up", () => {
    writeFileSync(join(dir, "retry.policy"), 'interface wifi = "wlan0"\ninterface lte = "wwan0"\non subflow_stale if iface wifi then create via lte after 2s retry 1\n');
    const conn = { token: "7f6f626c", family: "ipv4", daddr: "10.1.1.2", dport: 443 };
    const events = [
      { event: "established", ...conn, saddr: "10.1.1.1", sport: 43390, ifname: "wlan0" },
      { event: "subflow_stale", ...conn, saddr: "10.1.1.1", sport: 43390, ifname: "wlan0" },
      { event: "subflow_closed", ...conn, saddr: "10.1.2.1", sport: 5000, ifname: "wwan0", error: 110 },
      { event: "subflow_closed", ...conn, saddr: "10.1.2.1", sport: 5001, ifname: "wwan0", error: 110 },
    ];
    writeFileSync(join(dir, "retry.jsonl"), events.map((e) => JSON.stringify(e)).join("\n"));
    const policy = join(dir, "retry.policy");
    const text = runCli(["simulate", policy, "--events", join(dir, "retry.jsonl")]);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toBe(
      [
        "1: established 7f6f626c (wlan0): no rule fires",
        `2: subflow_stale 7f6f626c (wlan0): ${policy}:3 fired`,
        `    ${policy}:3: create a subflow via lte to 10.1.1.2 port 443 after 2000ms (attempt 1 of 2)`,
        `3: subflow_closed 7f6f626c (wwan0): ${policy}:3: the subflow its create opened failed: tried again`,
        `    ${policy}:3: create a subflow via lte to 10.1.1.2 port 443 after 2000ms (attempt 2 of 2)`,
        `4: subflow_closed 7f6f626c (wwan0): ${policy}:3: the subflow its create opened failed; that was attempt 2 of 2: no more tries`,
        "",
      ].join("\n"),
    );
    const json = runCli(["simulate", policy, "--events", join(dir, "retry.jsonl"), "--format", "json"]).stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(json.slice(2)).toEqual([
      { event: "subflow_closed", token: "7f6f626c", rules: [`${policy}:3`], actions: [{ op: "create", via: "lte", to: "10.1.1.2", port: 443, backup: false, attempt: 2, attempts: 2, scope: "connection", after_ms: 2000, rule: `${policy}:3` }], retry: { attempt: 2, attempts: 2, exhausted: false } },
      { event: "subflow_closed", token: "7f6f626c", rules: [`${policy}:3`], actions: [], retry: { attempt: 2, attempts: 2, exhausted: true } },
    ]);
  });

  it("says which line of the events file is wrong (exit 2)", () => {
    writeFileSync(join(dir, "bad.jsonl"), `${JSON.stringify(EVENTS[0])}\n{"event": "bogus"}\n`);
    const result = runCli(["simulate", join(dir, "p.policy"), "--events", join(dir, "bad.jsonl")]);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`mptcp-policy: ${join(dir, "bad.jsonl")}:2: unknown event 'bogus'\n`);
  });

  it("says once, after the events, which facts they lack and which rules therefore cannot match (text)", () => {
    writeFileSync(join(dir, "no-ifname.jsonl"), WITHOUT_IFNAME.map((e) => JSON.stringify(e)).join("\n"));
    const result = runCli(["simulate", join(dir, "p.policy"), "--events", join(dir, "no-ifname.jsonl")]);
    expect(result.status).toBe(0);
    const policy = join(dir, "p.policy");
    expect(result.stdout).toBe(
      [
        "1: created 7f6f626c: no rule fires",
        "2: established 7f6f626c: no rule fires",
        "3: iface_down: no rule fires",
        "4: subflow_closed 7f6f626c: no rule fires",
        "5: closed 7f6f626c: no rule fires",
        "warning: the events lack ifname, so 3 rules cannot match them:",
        `  ${policy}:3: 1 of 1 established event lacks ifname`,
        `  ${policy}:4: 1 of 1 subflow_closed event lacks ifname`,
        `  ${policy}:5: 1 of 1 iface_down event lacks ifname`,
        `hint: add "ifname" to the events; 'mptcp-policy monitor --format json' records it`,
        "",
      ].join("\n"),
    );
  });

  it("says it as one last JSON line, after the events' lines (JSON)", () => {
    writeFileSync(join(dir, "no-ifname.jsonl"), WITHOUT_IFNAME.map((e) => JSON.stringify(e)).join("\n"));
    const result = runCli(["simulate", join(dir, "p.policy"), "--events", join(dir, "no-ifname.jsonl"), "--format", "json"]);
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(WITHOUT_IFNAME.length + 1);
    const at = (line: number) => `${join(dir, "p.policy")}:${line}`;
    expect(lines.at(-1)).toEqual({
      missing: ["ifname"],
      unmatchable_rules: [
        { rule: at(3), event: "established", missing: ["ifname"], events: 1, of: 1 },
        { rule: at(4), event: "subflow_closed", missing: ["ifname"], events: 1, of: 1 },
        { rule: at(5), event: "iface_down", missing: ["ifname"], events: 1, of: 1 },
      ],
    });
  });

  it("replays a session recorded by `monitor --format json` on the real kernel", async () => {
    const lab = await Lab.create();
    try {
      const monitor = spawn("ip", ["netns", "exec", lab.client, process.execPath, CLI, "monitor", "--format", "json"], { stdio: ["ignore", "pipe", "pipe"] });
      let recorded = "";
      monitor.stdout.on("data", (d: Buffer) => (recorded += d.toString()));
      await new Promise((r) => setTimeout(r, 800));
      const server = await lab.startServer({ port: 5100 });
      const client = await lab.connect({ to: lab.address("server", "wifi"), port: server.port });
      client.command("send 1000");
      const deadline = Date.now() + 10_000;
      while (!recorded.includes('"established"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      monitor.kill("SIGINT");
      await new Promise((r) => monitor.on("exit", r));
      writeFileSync(join(dir, "recorded.jsonl"), recorded);
      const result = runCli(["simulate", join(dir, "p.policy"), "--events", join(dir, "recorded.jsonl"), "--format", "json"]);
      expect(result.status, result.stderr).toBe(0);
      const established = result.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
        .find((l) => l.event === "established" && l.token === client.token);
      expect(established).toMatchObject({ rules: [`${join(dir, "p.policy")}:3`], actions: [{ op: "create", via: "lte", to: lab.address("server", "wifi"), port: 5100, backup: true }] });
    } finally {
      await lab.destroy();
    }
  });
});

describe("findMissingFacts", () => {
  const DECLS = 'interface wifi = "wlan0"\ninterface lte = "wwan0"\n';
  const conn = { token: "7f6f626c", family: "ipv4", saddr: "10.1.1.1", daddr: "10.1.1.2", sport: 43390, dport: 443 };

  function missing(rules: string, events: object[]) {
    const result = compilePolicy([{ name: "p.policy", text: DECLS + rules }]);
    expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const found = findMissingFacts(result.model as PolicyModel, events as PolicyEvent[]);
    return found && { lacking: found.lacking, rules: found.rules.map((r) => ({ line: r.at.line, event: r.event, lacking: r.lacking, events: r.events, of: r.of })) };
  }

  it("says nothing when the events carry what the rules test", () => {
    expect(missing("on established if iface wifi then create via lte\n", [{ event: "established", ...conn, ifname: "wwan0" }])).toBeUndefined();
  });

  it("counts the events of a rule's kind that lack a fact, of all of them", () => {
    const events = [
      { event: "subflow_closed", ...conn, ifname: "wlan0" },
      { event: "subflow_closed", ...conn },
      { event: "subflow_closed", ...conn },
    ];
    expect(missing("on subflow_closed if iface wifi then create via lte\n", events)).toEqual({
      lacking: ["ifname"],
      rules: [{ line: 3, event: "subflow_closed", lacking: ["ifname"], events: 2, of: 3 }],
    });
  });

  it("names no rule that can still match: another way through `or`, or a test under `not`", () => {
    const rules = "on subflow_closed if iface wifi or remote port 443 then create via lte\non established if not iface wifi then create via lte\n";
    expect(missing(rules, [{ event: "subflow_closed", ...conn }, { event: "established", ...conn }])).toBeUndefined();
  });

  it("takes what the connection table knows: a later event without addresses still has the connection's", () => {
    const events = [{ event: "created", ...conn, ifname: "wlan0" }, { event: "established", token: conn.token, ifname: "wlan0" }];
    expect(missing("on established if remote port 443 and local in 10.1.1.0/24 then create via lte\n", events)).toBeUndefined();
    expect(missing("on established if remote port 443 then create via lte\n", [{ event: "established", token: conn.token, ifname: "wlan0" }])).toEqual({
      lacking: ["dport"],
      rules: [{ line: 3, event: "established", lacking: ["dport"], events: 1, of: 1 }],
    });
  });

  it("names the field each kind of event carries a fact in: an interface event's name, an address event's address", () => {
    const rules = "on iface_up wifi then log \"up\"\non address_added if iface wifi and local in 10.0.0.0/8 then log \"address\"\n";
    expect(missing(rules, [{ event: "iface_up", ifindex: 3 }, { event: "address_added", ifindex: 3, family: "ipv4" }])).toEqual({
      lacking: ["ifname", "address"],
      rules: [
        { line: 3, event: "iface_up", lacking: ["ifname"], events: 1, of: 1 },
        { line: 4, event: "address_added", lacking: ["ifname", "address"], events: 1, of: 1 },
      ],
    });
  });

  it("ignores the events the rules never see (overflow, unknown) and kinds no event has", () => {
    expect(missing("on iface_down wifi then log \"down\"\n", [{ event: "overflow" }, { event: "established", ...conn }])).toBeUndefined();
  });
});
