// `mptcp-policy monitor` and `status` through the built CLI, run inside lab
// namespaces with `ip netns exec` as a user would (root only), checked against
// what iproute2 reports: `ip mptcp monitor`, `ip mptcp endpoint/limits` and `ss -M`.
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readEvent } from "../compiler/events.js";
import { canRunLab, EventLog, sleep } from "./lab/events.js";
import { Lab } from "./lab/topology.js";
import { buildCli, CLI, ROOT } from "./helpers.js";
import { hasFeature } from "./kernel-support.js";
import { labKernel } from "./kernel-expectations.js";

/** A long-running command in a namespace, its stdout lines collected. */
class Running {
  readonly lines: string[] = [];
  stderr = "";
  readonly exit: Promise<number | null>;
  private buffer = "";

  constructor(readonly child: ChildProcess) {
    child.stdout!.on("data", (data: Buffer) => {
      this.buffer += data.toString();
      const parts = this.buffer.split("\n");
      this.buffer = parts.pop() ?? "";
      this.lines.push(...parts);
    });
    child.stderr!.on("data", (data: Buffer) => (this.stderr += data.toString()));
    this.exit = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
  }

  async until(condition: () => boolean, timeoutMs = 8000): Promise<void> {
    for (let waited = 0; !condition(); waited += 50) {
      if (waited > timeoutMs) throw new Error(`timed out; stdout:\n${this.lines.join("\n")}\nstderr:\n${this.stderr}`);
      await sleep(50);
    }
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    this.child.kill(signal);
    return this.exit;
  }
}

function inNamespace(ns: string, command: string[]): Running {
  return new Running(spawn("ip", ["netns", "exec", ns, ...command], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } }));
}

function cli(ns: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync("ip", ["netns", "exec", ns, process.execPath, CLI, ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `ip mptcp monitor` lines as {event, fields}; iproute2 6.1 prints listener events as UNKNOWN 15/16. */
const IP_EVENT_NAMES: Record<string, string> = {
  CREATED: "created",
  ESTABLISHED: "established",
  CLOSED: "closed",
  ANNOUNCED: "announced",
  REMOVED: "removed",
  SF_ESTABLISHED: "subflow_established",
  SF_CLOSED: "subflow_closed",
  SF_PRIO: "subflow_priority",
  LISTENER_CREATED: "listener_created",
  LISTENER_CLOSED: "listener_closed",
  "UNKNOWN 15": "listener_created",
  "UNKNOWN 16": "listener_closed",
};

function parseIpMonitor(line: string): { event: string; fields: Record<string, string> } {
  const match = /^\[\s*([^\]]+?)\s*\](.*)$/.exec(line);
  if (!match) throw new Error(`not an ip mptcp monitor line: ${line}`);
  const fields: Record<string, string> = {};
  for (const word of match[2]!.trim().split(/\s+/).filter(Boolean)) {
    const [key, value] = word.split("=");
    fields[key!] = value ?? "1";
  }
  return { event: IP_EVENT_NAMES[match[1]!] ?? match[1]!, fields };
}

describe.skipIf(!canRunLab())("monitor and status against iproute2", () => {
  let lab: Lab;

  beforeAll(async () => {
    buildCli();
    lab = await Lab.create();
    for (const side of ["client", "server"] as const) lab.ip(side, "mptcp", "limits", "set", "subflows", "4", "add_addr_accepted", "4");
    lab.ip("client", "mptcp", "endpoint", "add", lab.address("client", "lte"), "dev", "lte", "subflow");
    lab.ip("server", "mptcp", "endpoint", "add", lab.address("server", "lte"), "signal");
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it("monitor --format json prints what ip mptcp monitor prints, one JSON object per line, and exits 0 on SIGTERM", async () => {
    const ours = {
      client: inNamespace(lab.client, [process.execPath, CLI, "monitor", "--format", "json"]),
      server: inNamespace(lab.server, [process.execPath, CLI, "monitor", "--format", "json"]),
    };
    const theirs = { client: inNamespace(lab.client, ["ip", "mptcp", "monitor"]), server: inNamespace(lab.server, ["ip", "mptcp", "monitor"]) };
    for (const side of ["client", "server"] as const) await ours[side].until(() => ours[side].stderr.includes("following MPTCP"));
    await sleep(200); // ip mptcp monitor says nothing when it is ready

    const server = await lab.startServer({ port: 5000 });
    const peer = await lab.connect({ to: lab.address("server", "wifi"), port: 5000 });
    peer.command("send 1000");
    await ours.client.until(() => ours.client.lines.some((l) => l.includes('"subflow_established"') && l.includes(lab.address("server", "lte"))));
    lab.ip("client", "mptcp", "endpoint", "change", "id", "1", "backup");
    await ours.server.until(() => ours.server.lines.some((l) => l.includes('"subflow_priority"')));
    lab.ip("client", "mptcp", "endpoint", "change", "id", "1", "nobackup");
    await ours.server.until(() => ours.server.lines.some((l) => l.includes('"subflow_priority"') && l.includes('"backup":false')));
    lab.ip("server", "mptcp", "endpoint", "delete", "id", "1");
    await ours.client.until(() => ours.client.lines.some((l) => l.includes('"removed"')));
    peer.command("close");
    await ours.client.until(() => ours.client.lines.some((l) => l.includes('"closed"')));
    await server.stop();
    // Without listener events (before Linux 6.2) the closed connection is the last event.
    if (hasFeature("listener_events")) await ours.server.until(() => ours.server.lines.some((l) => l.includes('"listener_closed"')));
    else await ours.server.until(() => ours.server.lines.some((l) => l.includes('"closed"')));
    await sleep(200);

    for (const side of ["client", "server"] as const) {
      expect(await ours[side].stop("SIGTERM")).toBe(0);
      await theirs[side].stop("SIGTERM");
      const events = ours[side].lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      const mptcp = events.filter((e) => !["iface_up", "iface_down", "address_added", "address_removed"].includes(String(e["event"])));
      const reference = theirs[side].lines.filter((l) => l.startsWith("[")).map(parseIpMonitor);
      expect(mptcp.map((e) => e["event"])).toEqual(reference.map((r) => r.event));
      reference.forEach((r, i) => {
        const e = mptcp[i]!;
        const f = r.fields;
        if (f["token"] !== undefined) expect(e["token"]).toBe(f["token"]);
        if (f["remid"] !== undefined) expect(e["remid"]).toBe(Number(f["remid"]));
        if (f["locid"] !== undefined) expect(e["locid"]).toBe(Number(f["locid"]));
        for (const key of ["saddr4", "saddr6"]) if (f[key] !== undefined) expect(e["saddr"]).toBe(f[key]);
        for (const key of ["daddr4", "daddr6"]) if (f[key] !== undefined) expect(e["daddr"]).toBe(f[key]);
        for (const key of ["sport", "dport", "error", "ifindex"]) if (f[key] !== undefined) expect(e[key]).toBe(Number(f[key]));
        if (f["backup"] !== undefined) expect(e["backup"]).toBe(f["backup"] === "1");
        if (f["flags"] !== undefined) expect(e["flags"]).toBe(parseInt(f["flags"], 16));
        expect(typeof e["time"]).toBe("number");
      });
      // Every line is an event the decision core reads.
      for (const e of events) expect(typeof readEvent(e)).toBe("object");
    }
    const client = ours.client.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(client.find((e) => e["event"] === "created")).toMatchObject({ family: "ipv4", server_side: false, ifname: "wifi" });
    expect(client.find((e) => e["event"] === "subflow_established")).toMatchObject({ ifname: "lte" });
    // Linux 6.18 added the server side as a bit of MPTCP_ATTR_FLAGS; older kernels send only MPTCP_ATTR_SERVER_SIDE.
    expect(ours.server.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e["event"] === "created")).toMatchObject({
      server_side: true,
      ...((labKernel()?.serverSideFlag ?? true) ? { flags: 2 } : {}),
    });
  });

  it("the events socket's filter drops the events it names in the kernel and passes the rest; removed, all pass again", async () => {
    const filtered = await EventLog.start({ netns: lab.client, interfaces: false });
    const reference = await EventLog.start({ netns: lab.client, interfaces: false });
    try {
      filtered.monitor.dropEvents(["created", "subflow_established"]);
      const server = await lab.startServer({ port: 5002 });
      const first = await lab.connect({ to: lab.address("server", "wifi"), port: 5002 });
      first.command("send 1000");
      const established = await reference.waitForEvent("established", { dport: 5002 });
      await reference.waitForEvent("subflow_established", { token: established.token });
      await filtered.waitForEvent("established", { token: established.token });
      first.command("close");
      await reference.waitForEvent("closed", { token: established.token });
      await filtered.waitForEvent("closed", { token: established.token });
      const of = (log: EventLog, token: string | undefined) => log.events.filter((e) => e.token === token).map((e) => e.event);
      expect(of(reference, established.token)).toEqual(expect.arrayContaining(["created", "established", "subflow_established", "closed"]));
      expect(of(filtered, established.token)).not.toContain("created");
      expect(of(filtered, established.token)).not.toContain("subflow_established");
      expect(of(filtered, established.token)).toContain("established");

      filtered.monitor.dropEvents([]);
      const second = await lab.connect({ to: lab.address("server", "wifi"), port: 5002 });
      second.command("send 1000");
      const again = await reference.waitFor((e) => e.event === "established" && e.dport === 5002 && e.token !== established.token);
      await filtered.waitForEvent("subflow_established", { token: again.token });
      expect(of(filtered, again.token)).toEqual(expect.arrayContaining(["created", "established", "subflow_established"]));
      second.command("close");
      await reference.waitForEvent("closed", { token: again.token });
      await server.stop();
    } finally {
      filtered.close();
      reference.close();
    }
  });

  it("monitor prints text lines like ip mptcp monitor, interface events too, and exits 0 on SIGINT", async () => {
    const monitor = inNamespace(lab.client, [process.execPath, CLI, "monitor"]);
    await monitor.until(() => monitor.stderr.includes("following MPTCP and interface events"));
    lab.ip("client", "addr", "add", "10.0.5.1/24", "dev", "wifi");
    lab.ip("client", "link", "set", "lte", "down");
    await monitor.until(() => monitor.lines.some((l) => l.includes("iface_down")));
    lab.ip("client", "link", "set", "lte", "up");
    expect(await monitor.stop("SIGINT")).toBe(0);
    expect(monitor.lines[0]).toMatch(/^\[\s+address_added\] family=ipv4 ifindex=\d+ ifname=wifi address=10\.0\.5\.1\/24$/);
    expect(monitor.lines).toContainEqual(expect.stringMatching(/^\[\s+iface_down\] ifindex=\d+ ifname=lte$/));
  });

  it("status --format json agrees with ip mptcp and ss -M", async () => {
    const server = await lab.startServer({ port: 6000 });
    const peer = await lab.connect({ to: lab.address("server", "wifi"), port: 6000 });
    peer.command("send 1000");
    lab.ip("server", "mptcp", "endpoint", "add", lab.address("server", "lte"), "signal");
    const status = await untilStatus((s) => s.connections.some((c) => c.token === peer.token && c.subflows.length >= 2));
    expect(status).toMatchObject({ enabled: true, path_manager: "kernel", limits: { subflows: 4, add_addr_accepted: 4 } });

    const ipEndpoints = JSON.parse(lab.ip("client", "-j", "mptcp", "endpoint", "show")) as Record<string, unknown>[];
    expect(status.endpoints.map((e) => ({ address: e.address, id: e.id, dev: e.ifname }))).toEqual(
      ipEndpoints.map((e) => ({ address: e["address"], id: e["id"], dev: e["dev"] })),
    );
    expect(lab.ip("client", "mptcp", "limits", "show").trim()).toBe(`add_addr_accepted ${status.limits.add_addr_accepted} subflows ${status.limits.subflows}`);

    // ss -M: one line per MPTCP connection, then its info with token:HEX.
    const ssM = (await lab.exec("client", ["ss", "-MniH"])).stdout;
    const ssTokens = [...ssM.matchAll(/token:([0-9a-f]+)/g)].map((m) => m[1]!.padStart(8, "0")).sort();
    expect(status.connections.map((c) => c.token).sort()).toEqual(ssTokens);
    const connection = status.connections.find((c) => c.token === peer.token)!;
    expect(ssM).toContain(`${connection.saddr}:${connection.sport}`);
    expect(ssM).toContain(`${connection.daddr}:${connection.dport}`);

    // ss -tniM: each TCP subflow with tcp-ulp-mptcp ... token:REMOTE(id:R)/LOCAL(id:L)
    const ssT = (await lab.exec("client", ["ss", "-tniH"])).stdout;
    const ssSubflows = [
      ...ssT.matchAll(/ESTAB\s+\d+\s+\d+\s+(\S+):(\d+)\s+(\S+):(\d+)[\s\S]*?tcp-ulp-mptcp flags:\S+ token:[0-9a-f]+\(id:(\d+)\)\/([0-9a-f]+)\(id:(\d+)\)/g),
    ].map((m) => ({
      saddr: m[1]!.replace(/%.*$/, ""),
      sport: Number(m[2]),
      daddr: m[3],
      dport: Number(m[4]),
      remid: Number(m[5]),
      token: m[6]!.padStart(8, "0"),
      locid: Number(m[7]),
    }));
    const ours = status.connections.flatMap((c) =>
      c.subflows.map((f) => ({ saddr: f.saddr, sport: f.sport, daddr: f.daddr, dport: f.dport, remid: f.remid, token: c.token, locid: f.locid })),
    );
    const key = (s: { sport: number }) => s.sport;
    expect([...ours].sort((a, b) => key(a) - key(b))).toEqual([...ssSubflows].sort((a, b) => key(a) - key(b)));
    expect(connection.subflows.find((f) => f.saddr === lab.address("client", "lte"))).toMatchObject({ ifname: "lte", state: "ESTAB", backup: false });

    const text = cli(lab.client, ["status"]);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(
      /^path manager: kernel \(net\.mptcp\.(path_manager|pm_type)\)\nlimits: subflows 4 add_addr_accepted 4\nendpoints:\n  10\.0\.2\.1 id 1 subflow dev lte\n/,
    );
    expect(text.stdout).toContain(`  token ${peer.token} 10.0.1.1:${peer.sport} -> 10.0.1.2:6000 ESTAB\n`);
    expect(text.stdout).toMatch(/    subflow 10\.0\.2\.1:\d+ -> 10\.0\.\d\.2:6000 locid 1 remid \d dev lte ESTAB rtt [\d.]+ms/);
    expect(text.stdout).toContain("listeners: none\nprograms made MPTCP: none (no running daemon of this namespace has 'mptcp for')\nkernel features (Linux ");
    peer.command("close");
    await server.stop();

    async function untilStatus(condition: (s: StatusJson) => boolean): Promise<StatusJson> {
      for (let tries = 0; ; tries++) {
        const result = cli(lab.client, ["status", "--format", "json"]);
        expect(result).toMatchObject({ status: 0, stderr: "" });
        const parsed = JSON.parse(result.stdout) as StatusJson;
        if (condition(parsed) || tries > 40) return parsed;
        await sleep(100);
      }
    }
  });

  it("status shows the userspace path manager, listeners, and IPv6 connections", async () => {
    lab.pathManager("server", "userspace");
    const server = await lab.startServer({ port: 7006, family: "ipv6" });
    const result = cli(lab.server, ["status", "--format", "json"]);
    expect(result.status).toBe(0);
    const status = JSON.parse(result.stdout) as StatusJson;
    expect(status.path_manager).toBe("userspace");
    expect(status.listeners).toContainEqual({ family: "ipv6", saddr: "::", sport: 7006 });
    const peer = await lab.connect({ to: lab.address("server", "wifi", "ipv6"), port: 7006 });
    peer.command("send 10");
    await sleep(200);
    const client = JSON.parse(cli(lab.client, ["status", "--format", "json"]).stdout) as StatusJson;
    expect(client.connections.find((c) => c.token === peer.token)).toMatchObject({ family: "ipv6", saddr: "fd00:1::1", daddr: "fd00:1::2", dport: 7006 });
    expect(cli(lab.server, ["status"]).stdout).toMatch(/^path manager: userspace \(net\.mptcp\.(path_manager|pm_type)\)\n/);
    peer.command("close");
    await server.stop();
    lab.pathManager("server", "kernel");
  });

  it("says what went wrong: a missing namespace, bad options", () => {
    const missing = spawnSync(process.execPath, [CLI, "status", "-n", "no-such-netns-xyz"], { encoding: "utf8" });
    expect(missing).toMatchObject({ status: 1, stdout: "" });
    expect(missing.stderr).toBe("mptcp-policy: network namespace 'no-such-netns-xyz': does not exist (see 'ip netns list')\n");
    expect(spawnSync(process.execPath, [CLI, "monitor", "--format", "yaml"], { encoding: "utf8" })).toMatchObject({
      status: 2,
      stderr: "mptcp-policy: --format must be 'text' or 'json', not 'yaml'\n",
    });
    expect(spawnSync(process.execPath, [CLI, "status", "extra"], { encoding: "utf8" })).toMatchObject({
      status: 2,
      stderr: "mptcp-policy: status takes no arguments (got 'extra')\n",
    });
    expect(spawnSync(process.execPath, [CLI, "monitor", "--help"], { encoding: "utf8" }).stdout).toContain("Usage: mptcp-policy monitor");
  });

  it("status -n NAME reads another namespace without entering it", () => {
    const result = spawnSync(process.execPath, [CLI, "status", "-n", lab.client, "--format", "json"], { encoding: "utf8" });
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ path_manager: "kernel", limits: { subflows: 4 } });
  });
});

interface StatusJson {
  enabled: boolean;
  path_manager: string;
  limits: { subflows: number; add_addr_accepted: number };
  endpoints: { id: number; address: string; ifname?: string; flags: string[] }[];
  connections: {
    token: string;
    family: string;
    saddr: string;
    daddr: string;
    sport: number;
    dport: number;
    subflows: { saddr: string; daddr: string; sport: number; dport: number; locid: number; remid: number; ifname?: string; state: string; backup: boolean }[];
  }[];
  listeners: { family: string; saddr: string; sport: number }[];
}
