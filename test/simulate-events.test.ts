// `simulate --events`: the decision core on a file of events, including a session
// recorded with `monitor --format json` on the real kernel (replayed as is).
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

  it("says which line of the events file is wrong (exit 2)", () => {
    writeFileSync(join(dir, "bad.jsonl"), `${JSON.stringify(EVENTS[0])}\n{"event": "bogus"}\n`);
    const result = runCli(["simulate", join(dir, "p.policy"), "--events", join(dir, "bad.jsonl")]);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`mptcp-policy: ${join(dir, "bad.jsonl")}:2: unknown event 'bogus'\n`);
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
