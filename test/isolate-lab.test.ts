// Zones (`isolate vpn`) on the kernel: a lab with three links (vpn, wifi, lte), the
// real daemon on one side, a peer that announces addresses and opens joins on every
// interface on the other. The witnesses are the kernel's own: `ip mptcp monitor` of
// both namespaces, `ss -Mi` and sock_diag; the daemon's log is read only for what
// only it can tell (a refusal, a close it made and how long the subflow lived).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { readStatus, type ConnectionStatus } from "../runtime/netlink/index.js";
import { connectAndSend, policyDir, startDaemon, waitForConnection, type RunningDaemon } from "./daemon-support.js";
import { buildCli } from "./helpers.js";
import { canRunLab, EventLog, sleep } from "./lab/events.js";
import { ALL_LINKS, Lab, type LinkName, type Side } from "./lab/topology.js";

const DECLS = 'interface vpn = "vpn"\ninterface wifi = "wifi"\ninterface lte = "lte"\nlimits subflows 8 add_addr_accepted 8\n';
const VPN_NET = "10.0.3.";

let lab: Lab | undefined;
const daemons: RunningDaemon[] = [];
const logs: EventLog[] = [];
const monitors: IpMonitor[] = [];
const dirs: string[] = [];

// Building the bundle takes a few seconds, more on a loaded machine than a hook's default 10 s.
beforeAll(() => {
  buildCli();
}, 120_000);

afterEach(async (context) => {
  if (context.task.result?.state === "fail") for (const d of daemons) console.error(`daemon log:\n${d.lines.map((l) => JSON.stringify(l)).join("\n")}\nstderr: ${d.stderr}`);
  await Promise.all(
    daemons.splice(0).map(async (d) => {
      const timer = setTimeout(() => d.signal("SIGKILL"), 5000);
      await d.stop();
      clearTimeout(timer);
    }),
  );
  for (const m of monitors.splice(0)) m.stop();
  for (const log of logs.splice(0)) log.close();
  await lab?.destroy();
  lab = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** `ip mptcp monitor` in a namespace: the kernel's own account, line by line. */
class IpMonitor {
  readonly lines: string[] = [];
  private readonly child: ChildProcess;

  constructor(lab: Lab, side: Side) {
    this.child = spawn("ip", ["-n", lab.ns(side), "mptcp", "monitor"], { stdio: ["ignore", "pipe", "ignore"] });
    let rest = "";
    this.child.stdout!.on("data", (d: Buffer) => {
      const text = rest + d.toString();
      const parts = text.split("\n");
      rest = parts.pop() ?? "";
      this.lines.push(...parts.filter((l) => l.trim() !== ""));
    });
  }

  /** The subflows the monitor saw established for a token: [saddr, daddr] of each SF_ESTABLISHED. */
  established(token: string): [string, string][] {
    return this.lines
      .filter((l) => l.includes("SF_ESTABLISHED") && l.includes(`token=${token}`))
      .map((l) => [/saddr[46]=(\S+)/.exec(l)?.[1] ?? "?", /daddr[46]=(\S+)/.exec(l)?.[1] ?? "?"]);
  }

  stop(): void {
    // Ours, by its own PID.
    if (this.child.exitCode === null) this.child.kill("SIGTERM");
  }
}

async function newLab(): Promise<Lab> {
  lab = await Lab.create({ links: ALL_LINKS });
  for (const side of ["client", "server"] as const) lab.ip(side, "mptcp", "limits", "set", "subflows", "8", "add_addr_accepted", "8");
  return lab;
}

function watch(lab: Lab): { client: IpMonitor; server: IpMonitor } {
  const client = new IpMonitor(lab, "client");
  const server = new IpMonitor(lab, "server");
  monitors.push(client, server);
  return { client, server };
}

async function events(lab: Lab, side: Side): Promise<EventLog> {
  const log = await EventLog.start({ netns: lab.ns(side), interfaces: false });
  logs.push(log);
  return log;
}

function writePolicy(policy: string): string {
  const dir = policyDir({ "policy.policy": policy });
  dirs.push(dir);
  return dir;
}

async function launch(lab: Lab, side: Side, dir: string): Promise<RunningDaemon> {
  const daemon = startDaemon(lab, side, ["--config", dir, "--no-watch"]);
  daemons.push(daemon);
  await daemon.waitForMessage("running");
  return daemon;
}

/** In-kernel path manager endpoints on every link of one side: a peer that announces (signal) or joins (subflow fullmesh) everywhere. */
function everyInterface(lab: Lab, side: Side, flags: string[]): void {
  for (const link of ALL_LINKS) lab.ip(side, "mptcp", "endpoint", "add", lab.address(side, link), "dev", link, ...flags);
}

const inVpn = (address: string) => address.startsWith(VPN_NET);
const onLink = (lab: Lab, side: Side, link: LinkName) => lab.address(side, link);

async function connectionOf(lab: Lab, side: Side, match: (c: ConnectionStatus) => boolean): Promise<ConnectionStatus | undefined> {
  return (await readStatus({ netns: lab.ns(side) })).connections.find(match);
}

/** `ss -Mi` in a namespace: the line of the MPTCP socket with this local port and its info line. */
function ssMptcp(lab: Lab, side: Side, port: number): string {
  const out = spawnSync("ip", ["netns", "exec", lab.ns(side), "ss", "-Mni"], { encoding: "utf8" }).stdout;
  const lines = out.split("\n");
  const at = lines.findIndex((l) => new RegExp(`:${port}\\s`).test(l));
  return at < 0 ? "" : `${lines[at]}\n${lines[at + 1] ?? ""}`;
}

describe.skipIf(!canRunLab())("isolate on the kernel: no subflow across a zone", { retry: 1 }, () => {
  it("as the client: endpoints and the peer's ADD_ADDR give a vpn connection nothing outside vpn; a wifi connection still gets its lte subflow", async () => {
    const lab = await newLab();
    everyInterface(lab, "server", ["signal"]);
    const seen = watch(lab);
    const local = await events(lab, "client");
    const policy = `${DECLS}isolate vpn\nendpoint wifi subflow\nendpoint lte subflow\non announced then create to announced\n`;
    const daemon = await launch(lab, "client", writePolicy(policy));
    const server = await lab.startServer({ port: 5000 });
    const vpn = await connectAndSend(lab, { to: lab.address("server", "vpn"), from: lab.address("client", "vpn"), port: server.port });
    const wifi = await connectAndSend(lab, { to: lab.address("server", "wifi"), from: lab.address("client", "wifi"), port: server.port });

    // The wifi connection: its lte subflow, from the endpoint, in the default zone with wifi.
    const wifiConnection = await waitForConnection(lab, "client", (c) => c.token === wifi.token && c.subflows.some((s) => s.saddr === onLink(lab, "client", "lte")));
    expect(wifiConnection.subflows.every((s) => !inVpn(s.saddr) && !inVpn(s.daddr))).toBe(true);
    // The vpn connection heard the peer's addresses, and answered none outside vpn.
    await local.waitForEvent("announced", { token: vpn.token, daddr: lab.address("server", "wifi") });
    await local.waitForEvent("announced", { token: vpn.token, daddr: lab.address("server", "lte") });
    await daemon.waitFor((l) => l["result"] === "zone-refused" && l["token"] === vpn.token && String(l["request"]).includes(lab.address("server", "wifi")));
    await sleep(1500);

    const client = await connectionOf(lab, "client", (c) => c.token === vpn.token);
    expect(client?.subflows.map((s) => [s.saddr, s.daddr])).toEqual([[lab.address("client", "vpn"), lab.address("server", "vpn")]]);
    const serverSide = await connectionOf(lab, "server", (c) => c.dport === vpn.sport);
    expect(serverSide?.subflows.every((s) => inVpn(s.saddr) && inVpn(s.daddr))).toBe(true);
    expect(seen.client.established(vpn.token)).toEqual([]);
    expect(seen.server.established(serverSide!.token)).toEqual([]);
    // ss prints `subflows:N` (the extra subflows) only when there are some.
    expect(ssMptcp(lab, "client", vpn.sport)).toMatch(/token:/);
    expect(ssMptcp(lab, "client", vpn.sport)).not.toMatch(/subflows:\d/);
    expect(ssMptcp(lab, "client", wifi.sport)).toMatch(/subflows:[1-9]/);
    // Every refusal said why: the endpoints' creates and the answers to ADD_ADDR.
    const refusals = daemon.lines.filter((l) => l["result"] === "zone-refused" && l["token"] === vpn.token);
    expect(refusals.length).toBeGreaterThanOrEqual(3);
    expect(String(refusals[0]!.msg)).toMatch(/^refused: the subflow would use (wifi|lte), in the default zone, and the connection is in the zone 'isolate vpn'/);
  });

  it("as the server: joins the peer opens across the zone are closed as their events arrive, counted and logged; the wifi connection keeps its lte join", async () => {
    const lab = await newLab();
    // The peer announces each of its addresses and joins from each.
    everyInterface(lab, "client", ["signal", "subflow"]);
    const seen = watch(lab);
    const serverEvents = await events(lab, "server");
    const policy = `${DECLS}isolate vpn\nendpoint vpn signal\nendpoint wifi signal\nendpoint lte signal\non announced then create to announced\n`;
    const daemon = await launch(lab, "server", writePolicy(policy));
    const server = await lab.startServer({ port: 5000 });
    const vpn = await connectAndSend(lab, { to: lab.address("server", "vpn"), from: lab.address("client", "vpn"), port: server.port });
    const wifi = await connectAndSend(lab, { to: lab.address("server", "wifi"), from: lab.address("client", "wifi"), port: server.port });

    const vpnToken = (await serverEvents.waitForEvent("established", { dport: vpn.sport })).token!;
    const wifiToken = (await serverEvents.waitForEvent("established", { dport: wifi.sport })).token!;
    // The peer joined from wifi and lte to the vpn connection: each was closed.
    for (const link of ["wifi", "lte"] as const) {
      await serverEvents.waitForEvent("subflow_established", { token: vpnToken, daddr: lab.address("client", link) });
      await serverEvents.waitForEvent("subflow_closed", { token: vpnToken, daddr: lab.address("client", link) });
    }
    const wifiConnection = await waitForConnection(lab, "server", (c) => c.token === wifiToken && c.subflows.some((s) => s.daddr === lab.address("client", "lte")));
    expect(wifiConnection.subflows.every((s) => !inVpn(s.saddr) && !inVpn(s.daddr))).toBe(true);
    await sleep(1000);

    for (const side of ["server", "client"] as const) {
      const connection = await connectionOf(lab, side, (c) => (side === "server" ? c.token === vpnToken : c.token === vpn.token));
      expect(connection?.subflows.every((s) => inVpn(s.saddr) && inVpn(s.daddr)), `${side}: ${JSON.stringify(connection?.subflows)}`).toBe(true);
    }
    // The kernel's monitor saw them come and go: established, then closed.
    const crossed = seen.server.established(vpnToken).filter(([saddr, daddr]) => !inVpn(saddr) || !inVpn(daddr));
    expect(crossed.length).toBeGreaterThanOrEqual(2);
    const closedLines = seen.server.lines.filter((l) => l.includes("SF_CLOSED") && l.includes(`token=${vpnToken}`));
    expect(closedLines.length).toBeGreaterThanOrEqual(crossed.length);
    const closes = daemon.lines.filter((l) => typeof l.msg === "string" && l.msg.startsWith("subflow across a zone closed") && l["token"] === vpnToken);
    expect(closes.length).toBeGreaterThanOrEqual(2);
    expect(closes.map((l) => l["cause"])).toEqual(closes.map(() => "join"));
    expect(Math.max(...closes.map((l) => Number(l["closed_total"])))).toBeGreaterThanOrEqual(2);
    // No announcement of a wifi or lte address reached the vpn connection's peer, and the
    // peer's announcements were answered only inside the zone.
    expect(daemon.lines.some((l) => l["result"] === "ok" && l["token"] === vpnToken && /ANNOUNCE .*10\.0\.[12]\./.test(String(l["request"])))).toBe(false);
    await serverEvents.waitForEvent("announced", { token: vpnToken, daddr: lab.address("client", "wifi") });
    expect(daemon.lines.some((l) => l["result"] === "zone-refused" && l["token"] === vpnToken && String(l["request"]).startsWith("SUBFLOW_CREATE"))).toBe(true);

    // How long a crossing join lived: from its subflow_established to its subflow_closed, as read here.
    const lifetimes = ["wifi", "lte"].map((link) => {
      const up = serverEvents.events.find((e) => e.event === "subflow_established" && e.token === vpnToken && e.daddr === lab.address("client", link as LinkName));
      const down = serverEvents.events.find((e) => e.event === "subflow_closed" && e.token === vpnToken && e.daddr === lab.address("client", link as LinkName));
      return (down?.time ?? 0) - (up?.time ?? 0);
    });
    const reactions = closes.map((l) => l["after_event_ms"]);
    console.log(`isolate: crossing joins lived ${lifetimes.join(" ms, ")} ms (subflow_established to subflow_closed, server namespace); the daemon's close was acknowledged ${reactions.join(" ms, ")} ms after it received the event`);
    for (const ms of lifetimes) expect(ms).toBeLessThan(1000);
  });

  it("as the server: a join from behind a router that reaches the vpn address over wifi is closed (the route back leaves by wifi)", async () => {
    const lab = await newLab();
    // The peer has an address on no network of the server's, routed over wifi both ways.
    lab.ip("client", "addr", "add", "10.0.9.1/32", "dev", "wifi");
    lab.ip("client", "mptcp", "endpoint", "add", "10.0.9.1", "dev", "wifi", "subflow");
    lab.ip("server", "route", "add", "10.0.9.0/24", "via", lab.address("client", "wifi"), "dev", "wifi");
    const serverEvents = await events(lab, "server");
    const daemon = await launch(lab, "server", writePolicy(`${DECLS}isolate vpn\nendpoint vpn signal\n`));
    const server = await lab.startServer({ port: 5000 });
    const vpn = await connectAndSend(lab, { to: lab.address("server", "vpn"), from: lab.address("client", "vpn"), port: server.port });
    const token = (await serverEvents.waitForEvent("established", { dport: vpn.sport })).token!;
    await serverEvents.waitForEvent("subflow_established", { token, daddr: "10.0.9.1" });
    await serverEvents.waitForEvent("subflow_closed", { token, daddr: "10.0.9.1" });
    expect(await daemon.waitFor((l) => l["cause"] === "join" && l["result"] === "ok" && l["token"] === token)).toMatchObject({ iface: "wifi" });
    const connection = await connectionOf(lab, "server", (c) => c.token === token);
    expect(connection?.subflows.map((s) => s.daddr)).toEqual([lab.address("client", "vpn")]);
  });

  it("IPv6 as well: the peer's joins from its wifi and lte addresses to a vpn connection are closed, its vpn join kept", async () => {
    const lab = await newLab();
    for (const link of ALL_LINKS) lab.ip("client", "mptcp", "endpoint", "add", lab.address("client", link, "ipv6"), "dev", link, "subflow", "fullmesh");
    // IPv6 assumes no destination on-link for a bound socket (IPv4 does): routes to the
    // server's vpn network over wifi and lte, as a multi-homed host has.
    lab.ip("client", "-6", "route", "add", "fd00:3::/64", "via", lab.address("server", "wifi", "ipv6"), "dev", "wifi", "metric", "2048");
    lab.ip("client", "-6", "route", "add", "fd00:3::/64", "via", lab.address("server", "lte", "ipv6"), "dev", "lte", "metric", "2049");
    const serverEvents = await events(lab, "server");
    const daemon = await launch(lab, "server", writePolicy(`${DECLS}isolate vpn\nendpoint vpn signal\n`));
    const server = await lab.startServer({ port: 5000, family: "ipv6" });
    const vpn = await connectAndSend(lab, { to: lab.address("server", "vpn", "ipv6"), from: lab.address("client", "vpn", "ipv6"), port: server.port });
    const token = (await serverEvents.waitForEvent("established", { dport: vpn.sport })).token!;
    for (const link of ["wifi", "lte"] as const) await serverEvents.waitForEvent("subflow_closed", { token, daddr: lab.address("client", link, "ipv6") });
    await sleep(500);
    const connection = await connectionOf(lab, "server", (c) => c.token === token);
    expect(connection?.subflows.every((s) => s.saddr.startsWith("fd00:3::") && s.daddr.startsWith("fd00:3::")), JSON.stringify(connection?.subflows)).toBe(true);
    await daemon.waitFor((l) => l["cause"] === "join" && l["result"] === "ok" && l["token"] === token && l["closed_total"] === 2);
  });

  it("at start: a crossing subflow that the in-kernel path manager opened before is closed (SOCK_DESTROY)", async () => {
    const lab = await newLab();
    // Before the daemon: the in-kernel path manager gives the vpn connection a wifi subflow.
    lab.ip("client", "mptcp", "endpoint", "add", lab.address("client", "wifi"), "dev", "wifi", "subflow");
    const server = await lab.startServer({ port: 5000 });
    const vpn = await connectAndSend(lab, { to: lab.address("server", "vpn"), from: lab.address("client", "vpn"), port: server.port });
    await waitForConnection(lab, "client", (c) => c.token === vpn.token && c.subflows.some((s) => s.saddr === lab.address("client", "wifi")));
    const daemon = await launch(lab, "client", writePolicy(`${DECLS}isolate vpn\nendpoint wifi subflow\nendpoint lte subflow\n`));
    const closed = await daemon.waitFor((l) => l["cause"] === "start" && l["result"] === "ok");
    expect(closed["token"]).toBe(vpn.token);
    const connection = await waitForConnection(lab, "client", (c) => c.token === vpn.token && c.subflows.every((s) => inVpn(s.saddr)));
    expect(connection.subflows.length).toBe(1);
  });

  it("reload: a zone added closes the open connection's crossing subflows; removed, the endpoints give them back", async () => {
    const lab = await newLab();
    const open = `${DECLS}endpoint wifi subflow\nendpoint lte subflow\non subflow_closed if iface lte then create via lte after 2s\n`;
    const dir = writePolicy(open);
    const daemon = await launch(lab, "client", dir);
    const server = await lab.startServer({ port: 5000 });
    const vpn = await connectAndSend(lab, { to: lab.address("server", "vpn"), from: lab.address("client", "vpn"), port: server.port });
    // No zone yet: the endpoints give the vpn connection wifi and lte subflows.
    await waitForConnection(lab, "client", (c) => c.token === vpn.token && c.subflows.length === 3);

    writeFileSync(join(dir, "policy.policy"), `${open}isolate vpn\n`);
    daemon.signal("SIGHUP");
    await daemon.waitFor((l) => l.msg === "policy reloaded" && l["reason"] === "SIGHUP");
    const isolated = await waitForConnection(lab, "client", (c) => c.token === vpn.token && c.subflows.length === 1);
    expect(isolated.subflows[0]).toMatchObject({ saddr: lab.address("client", "vpn") });
    expect(daemon.lines.filter((l) => l["cause"] === "reload" && l["result"] === "ok").length).toBe(2);
    // The lte subflow's close is the zone's, not a failure: the rule does not open it again.
    await sleep(2500);
    expect((await connectionOf(lab, "client", (c) => c.token === vpn.token))?.subflows.length).toBe(1);

    writeFileSync(join(dir, "policy.policy"), open);
    daemon.signal("SIGHUP");
    await daemon.waitFor((l) => l.msg === "policy reloaded" && daemon.lines.filter((x) => x.msg === "policy reloaded").length === 2);
    const again = await waitForConnection(lab, "client", (c) => c.token === vpn.token && c.subflows.length === 3);
    expect(again.subflows.map((s) => s.saddr).sort()).toEqual([lab.address("client", "wifi"), lab.address("client", "lte"), lab.address("client", "vpn")].sort());
  });
});
