// Every action of the language, end to end: the real daemon (`mptcp-policy run`) in
// a lab namespace, real MPTCP connections, and assertions on what the kernel reports:
// sock_diag of either side, `ip mptcp endpoint show`, and the peer's own MPTCP events
// (an EventMonitor in the server's namespace). The daemon's log is read only where it
// is the one observable (a delayed action that was cancelled, a refusal to start).
import { chmodSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { canRunLab, EventLog, sleep } from "./lab/events.js";
import { Lab, LAB_ADDRESSES } from "./lab/topology.js";
import { MptcpPathManager, readStatus, type ConnectionStatus } from "../runtime/netlink/index.js";
import { connectAndSend, policyDir, runCliIn, startDaemon, subflowsOf, waitForConnection, type RunningDaemon } from "./daemon-support.js";
import { buildCli, withoutCapabilities } from "./helpers.js";
import { labKernel } from "./kernel-expectations.js";
import { probeKernelFeatures } from "../runtime/kernel/features.js";

const DECLS = 'interface wifi = "wifi"\ninterface lte = "lte"\n';

let lab: Lab | undefined;
const daemons: RunningDaemon[] = [];
const logs: EventLog[] = [];
const dirs: string[] = [];

beforeAll(() => {
  buildCli();
});

afterEach(async (context) => {
  // A failed test shows what the daemons logged: the kernel's view is in the assertion.
  if (context.task.result?.state === "fail")
    for (const d of daemons) console.error(`daemon log:\n${d.lines.map((l) => JSON.stringify(l)).join("\n")}\nstderr: ${d.stderr}`);
  // Every daemon started here, by its own PID: SIGTERM, then SIGKILL if it hangs.
  await Promise.all(
    daemons.splice(0).map(async (d) => {
      const timer = setTimeout(() => d.signal("SIGKILL"), 5000);
      await d.stop();
      clearTimeout(timer);
    }),
  );
  for (const log of logs.splice(0)) log.close();
  await lab?.destroy();
  lab = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface Setup {
  readonly lab: Lab;
  readonly daemon: RunningDaemon;
  readonly dir: string;
  /** The server namespace's MPTCP events: what the peer sees. */
  readonly peer: EventLog;
  /** The client namespace's MPTCP events: what the kernel did on the daemon's side. */
  readonly local: EventLog;
}

function newLab(): Promise<Lab> {
  return Lab.create().then((created) => {
    lab = created;
    // The server accepts joins and announcements (the kernel's default limits are low).
    created.ip("server", "mptcp", "limits", "set", "subflows", "8", "add_addr_accepted", "8");
    return created;
  });
}

function writePolicy(policy: string): string {
  const dir = policyDir({ "policy.policy": policy });
  dirs.push(dir);
  return dir;
}

async function launch(lab: Lab, dir: string, args: string[] = []): Promise<RunningDaemon> {
  const daemon = startDaemon(lab, "client", ["--config", dir, "--no-watch", ...args]);
  daemons.push(daemon);
  await daemon.waitForMessage("running");
  return daemon;
}

async function monitor(lab: Lab, side: "client" | "server"): Promise<EventLog> {
  const log = await EventLog.start({ netns: lab.ns(side), interfaces: false });
  logs.push(log);
  return log;
}

/** A lab, the server's and the client's event logs, and the daemon on the client side running `policy`. */
async function setUp(policy: string, prepare: (lab: Lab) => void = () => {}): Promise<Setup> {
  const lab = await newLab();
  prepare(lab);
  const peer = await monitor(lab, "server");
  const local = await monitor(lab, "client");
  const dir = writePolicy(policy);
  const daemon = await launch(lab, dir);
  return { lab, daemon, dir, peer, local };
}

/**
 * The peer treats a subflow as a backup: its MP_JOIN carried the flag (subflow_established
 * backup=1), or an MP_PRIO came after it (subflow_priority backup=1), as the daemon sends on
 * kernels that drop SUBFLOW_CREATE's backup flag (Linux 6.1).
 */
async function peerSeesBackup(peer: EventLog, token: string, daddr: string): Promise<void> {
  const joined = await peer.waitForEvent("subflow_established", { token, daddr });
  if (joined.backup === true) return;
  await peer.waitForEvent("subflow_priority", { token, daddr, backup: true });
}

/**
 * A route to the server's wifi network over lte as well, as a host has on each of its
 * links: where the kernel does not bind a subflow to the interface SUBFLOW_CREATE names
 * (Linux 6.1), the lte subflow to the server's wifi address needs it once wifi is down.
 */
function routeOverLte(lab: Lab): void {
  lab.ip("client", "route", "add", "10.0.1.0/24", "via", lab.address("server", "lte"), "dev", "lte", "metric", "2048");
}

/** The server's token for a client connection: the two ends of an MPTCP connection have different tokens. */
async function serverToken(peer: EventLog, clientSport: number): Promise<string> {
  return (await peer.waitForEvent("established", { dport: clientSport })).token!;
}

/** The largest limit the kernel under test takes (test/kernel-expectations.ts; 8 on this host's 6.18). */
function kernelLimitMaximum(): number {
  return labKernel()?.limitMaximum ?? 8;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// One retry: these tests time real connections on a machine that may be busy; a
// second failure is a real one.
describe.skipIf(!canRunLab())("mptcp-policy run: actions seen by the kernel and the peer", { retry: 1 }, () => {
  it("announce IFACE [port N] on established reaches the peer as ADD_ADDR; withdraw reaches it as RM_ADDR", async () => {
    const { lab, peer } = await setUp(
      `${DECLS}on established if remote port 5000 then announce lte port 5099, withdraw lte after 500ms\non established then announce lte\n`,
    );
    const withPort = await lab.startServer({ port: 5000 });
    const plain = await lab.startServer({ port: 5001 });
    const first = await connectAndSend(lab, { to: lab.address("server", "wifi"), port: withPort.port });
    const second = await connectAndSend(lab, { to: lab.address("server", "wifi"), port: plain.port });

    const firstToken = await serverToken(peer, first.sport);
    const announced = await peer.waitForEvent("announced", { token: firstToken });
    expect(announced).toMatchObject({ daddr: lab.address("client", "lte"), dport: 5099 });
    const removed = await peer.waitForEvent("removed", { token: firstToken });
    expect(removed.remid).toBe(announced.remid);
    // Times are when this process read the events: a busy test runner may read the first one late.
    expect(removed.time! - announced.time!).toBeGreaterThanOrEqual(300);

    const secondToken = await serverToken(peer, second.sport);
    const plainAnnounced = await peer.waitForEvent("announced", { token: secondToken });
    expect(plainAnnounced.daddr).toBe(lab.address("client", "lte"));
    // Without a port the ADD_ADDR carries none: the kernel reports the connection's own port.
    expect(plainAnnounced.dport === undefined || plainAnnounced.dport === second.sport).toBe(true);
    await sleep(300);
    expect(peer.events.some((e) => e.event === "removed" && e.token === secondToken)).toBe(false);
  });

  it("create via IFACE to announced on `announced`: a subflow to the address the server announced", async () => {
    const { lab, peer } = await setUp(`${DECLS}limits add_addr_accepted 2\non announced then create via lte to announced\n`, (lab) => {
      // The server runs the in-kernel path manager and announces its lte address.
      lab.ip("server", "mptcp", "endpoint", "add", lab.address("server", "lte"), "dev", "lte", "signal");
    });
    const server = await lab.startServer({ port: 5000 });
    const client = await connectAndSend(lab, { to: lab.address("server", "wifi"), port: server.port });
    const connection = await waitForConnection(lab, "client", (c) => c.token === client.token && c.subflows.length === 2);
    expect(connection.subflows.find((s) => s.saddr === lab.address("client", "lte"))).toMatchObject({
      daddr: lab.address("server", "lte"),
      dport: server.port,
    });
    const token = await serverToken(peer, client.sport);
    expect(await peer.waitForEvent("subflow_established", { token, saddr: lab.address("server", "lte") })).toMatchObject({
      daddr: lab.address("client", "lte"),
    });
  });

  it("on removed: `remote in` tests the withdrawn address, and create goes to the connection's remote address", async () => {
    const serverLte = LAB_ADDRESSES.lte.server.ipv4;
    const { lab, local } = await setUp(`${DECLS}on removed if remote in ${serverLte} then create via lte\n`, (lab) => {
      lab.ip("server", "mptcp", "endpoint", "add", serverLte, "dev", "lte", "signal", "id", "5");
    });
    const server = await lab.startServer({ port: 5000 });
    const client = await connectAndSend(lab, { to: lab.address("server", "wifi"), port: server.port });
    await local.waitForEvent("announced", { token: client.token, daddr: serverLte });
    lab.ip("server", "mptcp", "endpoint", "delete", "id", "5");
    await local.waitForEvent("removed", { token: client.token, remid: 5 });
    const joined = await local.waitForEvent("subflow_established", { token: client.token, saddr: lab.address("client", "lte") });
    expect(joined).toMatchObject({ daddr: lab.address("server", "wifi"), dport: server.port });
  });

  it("the kernel drops the events a policy does not need; a reload that needs them reads the connections again", async () => {
    const rule = "on established if iface wifi then create via lte\n";
    const { lab, daemon, dir, peer, local } = await setUp(`${DECLS}${rule}`);
    const filtered = daemon.lines.find((l) => l.msg === "MPTCP events the policy does not need are dropped by the kernel");
    expect(filtered?.["dropped"]).toEqual(expect.arrayContaining(["subflow_established", "subflow_closed", "announced"]));
    // Connections over lte, where no rule acts: all their events are dropped too, `closed`
    // included (the eBPF filter follows their tokens; every lab kernel takes it).
    expect(filtered?.["opened_on_ignored"]).toContain("lte");
    expect(filtered?.["opened_on_ignored"]).not.toContain("wifi");
    expect(filtered?.["filter"]).toBe("ebpf");
    const server = await lab.startServer({ port: 5000 });
    const overLte = await connectAndSend(lab, { to: lab.address("server", "lte"), from: lab.address("client", "lte"), port: server.port });
    await local.waitForEvent("established", { token: overLte.token });
    overLte.command("close");
    await local.waitForEvent("closed", { token: overLte.token });
    // Events reach the daemon in order: once it has read this connection's, it has had the other's.
    const client = await connectAndSend(lab, { to: lab.address("server", "wifi"), port: server.port });
    await daemon.waitFor((l) => l.msg === "event" && l["event"] === "established" && l["token"] === client.token);
    expect(daemon.lines.filter((l) => l.msg === "event" && l["token"] === overLte.token).map((l) => l["event"])).toEqual([]);
    const token = await serverToken(peer, client.sport);
    await peer.waitForEvent("subflow_established", { token, daddr: lab.address("client", "lte") });

    // destroy works on the table's subflows: the lte one came while subflow events were dropped.
    writeFileSync(join(dir, "policy.policy"), `${DECLS}${rule}on iface_down lte then destroy via lte\n`);
    daemon.signal("SIGHUP");
    await daemon.waitFor((l) => l.msg === "policy reloaded");
    const resync = daemon.lines.find((l) => l.msg === "connections resynchronised" && l["reason"] === "reload");
    expect(resync?.["connections"]).toBe(1);
    lab.ip("client", "link", "set", "lte", "down");
    // Without the resynchronisation the table would know no lte subflow: "nothing-to-do".
    const destroyed = await daemon.waitFor((l) => l["action"] === "destroy" && l["result"] !== undefined);
    expect(destroyed).toMatchObject({ result: "ok", request: expect.stringContaining(`SUBFLOW_DESTROY token ${client.token} ${lab.address("client", "lte")}`) });
  });

  it("without CAP_BPF the classic filter stands in: said once, connections of ignored interfaces still dropped by address, their `closed` read", async () => {
    const lab = await newLab();
    const local = await monitor(lab, "client");
    const dir = writePolicy(`${DECLS}on established if iface wifi then create via lte\n`);
    // The kernel refuses BPF_PROG_LOAD without CAP_BPF or CAP_SYS_ADMIN (unprivileged BPF is off on Debian's kernels).
    const wrapper = ["setpriv", "--bounding-set=-bpf,-sys_admin", "--inh-caps=-bpf,-sys_admin"];
    const daemon = startDaemon(lab, "client", ["--config", dir, "--no-watch"], "ip-netns", wrapper);
    daemons.push(daemon);
    await daemon.waitForMessage("running");
    const filtered = daemon.lines.find((l) => l.msg === "MPTCP events the policy does not need are dropped by the kernel");
    expect(filtered?.["filter"]).toBe("classic");
    const refusals = () => daemon.lines.filter((l) => l.msg?.startsWith("the eBPF events filter could not be used"));
    expect(refusals()).toHaveLength(1);
    expect(refusals()[0]?.["reason"]).toMatch(/EPERM|permitted/);
    const server = await lab.startServer({ port: 5000 });
    const overLte = await connectAndSend(lab, { to: lab.address("server", "lte"), from: lab.address("client", "lte"), port: server.port });
    await local.waitForEvent("established", { token: overLte.token });
    overLte.command("close");
    await daemon.waitFor((l) => l.msg === "event" && l["token"] === overLte.token);
    // Only its `closed` (no address in it) reached the daemon.
    expect(daemon.lines.filter((l) => l.msg === "event" && l["token"] === overLte.token).map((l) => l["event"])).toEqual(["closed"]);
    // An address change attaches the filter again: the classic one, without saying so again.
    lab.ip("client", "addr", "add", "10.0.2.99/24", "dev", "lte");
    await daemon.waitFor((l) => l.msg === "event" && l["event"] === "address_added");
    const client = await connectAndSend(lab, { to: lab.address("server", "wifi"), port: server.port });
    await daemon.waitFor((l) => l.msg === "event" && l["event"] === "established" && l["token"] === client.token);
    expect(refusals()).toHaveLength(1);
  });

  it("destroy closes the event's subflow", async () => {
    const { lab, peer } = await setUp(`${DECLS}endpoint lte subflow\non subflow_established if iface lte then destroy\n`);
    const server = await lab.startServer({ port: 5000 });
    const client = await connectAndSend(lab, { to: lab.address("server", "wifi"), port: server.port });
    const token = await serverToken(peer, client.sport);
    const joined = await peer.waitForEvent("subflow_established", { token, daddr: lab.address("client", "lte") });
    await peer.waitForEvent("subflow_closed", { token, dport: joined.dport });
    expect((await subflowsOf(lab, "client", client.token)).map((s) => s.saddr)).toEqual([lab.address("client", "wifi")]);
  });

  it("destroy via IFACE closes the connection's subflows on that interface", async () => {
    const { lab, peer } = await setUp(`${DECLS}on established then create via lte, destroy via lte after 700ms\n`);
    const server = await lab.startServer({ port: 5000 });
    const client = await connectAndSend(lab, { to: lab.address("server", "wifi"), port: server.port });
    await waitForConnection(lab, "client", (c) => c.token === client.token && c.subflows.length === 2);
    const token = await serverToken(peer, client.sport);
    const closed = await peer.waitForEvent("subflow_closed", { token, daddr: lab.address("client", "lte") });
    expect(closed.error).toBeUndefined();
    expect((await subflowsOf(lab, "client", client.token)).map((s) => s.saddr)).toEqual([lab.address("client", "wifi")]);
  });

  it("set IFACE active/backup on iface_down/iface_up, per connection (userspace path manager): MP_PRIO on the subflow", async () => {
    const { lab, peer } = await setUp(
      `${DECLS}on established then create via lte backup\non iface_down wifi then set lte active\non iface_up wifi then set lte backup\n`,
      routeOverLte,
    );
    const server = await lab.startServer({ port: 5000 });
    const client = await connectAndSend(lab, { to: lab.address("server", "wifi"), port: server.port });
    const lte = (c: ConnectionStatus) => c.subflows.find((s) => s.saddr === lab.address("client", "lte"));
    const before = lte(await waitForConnection(lab, "client", (c) => c.token === client.token && lte(c)?.backup === true))!;

    lab.ip("client", "link", "set", "wifi", "down");
    const during = lte(await waitForConnection(lab, "client", (c) => c.token === client.token && lte(c)?.backup === false))!;
    expect(during.sport).toBe(before.sport);
    const token = await serverToken(peer, client.sport);
    await peer.waitForEvent("subflow_priority", { token, daddr: lab.address("client", "lte"), backup: false });

    lab.ip("client", "link", "set", "wifi", "up");
    await waitForConnection(lab, "client", (c) => c.token === client.token && lte(c)?.backup === true && lte(c)?.sport === before.sport);
    await peer.waitForEvent("subflow_priority", { token, daddr: lab.address("client", "lte"), backup: true });
  });

  it("set IFACE active/backup on iface_down/iface_up, as endpoint flags (in-kernel path manager), keeping the subflow", async () => {
    // Regression: the address_removed events of the link going down made the daemon
    // re-sync every endpoint, which put the backup flag back and tore the subflow down.
    const { lab } = await setUp(`${DECLS}endpoint lte subflow backup\non iface_down wifi then set lte active\non iface_up wifi then set lte backup\n`);
    expect(lab.pathManagerOf("client")).toBe("kernel");
    const lteEndpoint = () =>
      lab
        .ip("client", "mptcp", "endpoint", "show")
        .split("\n")
        .find((l) => l.startsWith(`${lab.address("client", "lte")} `)) ?? "";
    expect(lteEndpoint()).toMatch(/ subflow backup /);
    const server = await lab.startServer({ port: 5000 });
    const client = await connectAndSend(lab, { to: lab.address("server", "wifi"), port: server.port });
    const lte = (c: ConnectionStatus) => c.subflows.find((s) => s.saddr === lab.address("client", "lte"));
    const before = lte(await waitForConnection(lab, "client", (c) => c.token === client.token && lte(c)?.backup === true))!;

    lab.ip("client", "link", "set", "wifi", "down");
    await waitForConnection(lab, "client", (c) => c.token === client.token && lte(c)?.backup === false);
    await sleep(300);
    expect(lteEndpoint()).not.toMatch(/backup/);
    expect(lte((await readStatus({ netns: lab.client })).connections.find((c) => c.token === client.token)!)).toMatchObject({
      sport: before.sport,
      backup: false,
    });

    lab.ip("client", "link", "set", "wifi", "up");
    await waitForConnection(lab, "client", (c) => c.token === client.token && lte(c)?.backup === true && lte(c)?.sport === before.sport);
    expect(lteEndpoint()).toMatch(/ subflow backup /);
  });

  it("create via IFACE backup: the subflow is a backup for the peer too (regression: Linux 6.1 drops SUBFLOW_CREATE's backup flag)", async () => {
    const { lab, peer } = await setUp(`${DECLS}on established if iface wifi then create via lte backup\n`);
    const server = await lab.startServer({ port: 5000 });
    const client = await connectAndSend(lab, { to: lab.address("server", "wifi"), port: server.port });
    const lte = lab.address("client", "lte");
    const token = await serverToken(peer, client.sport);
    await peerSeesBackup(peer, token, lte);
    // The kernel of either end, not an event, says so last: for the server the client's end is a backup.
    const serverSide = await waitForConnection(lab, "server", (c) => c.token === token && c.subflows.some((s) => s.daddr === lte && s.remote_backup));
    expect(serverSide.subflows.find((s) => s.daddr === lte)?.state).toBe("ESTAB");
    await waitForConnection(lab, "client", (c) => c.token === client.token && c.subflows.some((s) => s.saddr === lte && s.backup));
  });

  it("says once, with the policy line, what this kernel cannot honour, and enforces the rest", async () => {
    const policy = `${DECLS}limits subflows 3\nendpoint lte subflow laminar\non listener_created then log "listening"\non iface_up wifi then set lte backup\n`;
    const { lab, daemon, dir } = await setUp(policy);
    const file = join(dir, "policy.policy");
    // What this kernel has, probed in the other namespace (the probe writes an endpoint).
    const pm = await MptcpPathManager.open({ netns: lab.server });
    const features = (await probeKernelFeatures({ netns: lab.server, pathManager: pm }).finally(() => pm.close())).features;
    const gaps = daemon.lines.filter((l) => l.feature !== undefined);
    const expected = [
      ...(features.laminar_endpoints.available === false ? [`${file}:4 laminar_endpoints`] : []),
      ...(features.listener_events.available === false ? [`${file}:5 listener_events`] : []),
    ];
    // Debian 12's kernel lacks both (test/kernel-expectations.ts): the case this test is for.
    if (labKernel()?.name === "6.1") expect(expected).toHaveLength(2);
    expect(gaps.map((l) => `${String(l.at)} ${String(l.feature)}`)).toEqual(expected);
    for (const line of gaps) expect(line.msg).toMatch(new RegExp(`^${file.replace(/[.]/g, "\\.")}:\\d+: `));
    // The rest is enforced: the endpoint is there with the flags this kernel keeps, and stays.
    const endpoint = () => lab.ip("client", "mptcp", "endpoint", "show");
    expect(endpoint()).toMatch(new RegExp(`${lab.address("client", "lte")} id \\d+ subflow`));
    expect(lab.pathManagerOf("client")).toBe("kernel");
    lab.ip("client", "link", "set", "wifi", "down");
    lab.ip("client", "link", "set", "wifi", "up");
    await daemon.waitForMessage("done");
    const added = daemon.lines.filter((l) => l.msg === "endpoint added").length;
    await sleep(300);
    expect(daemon.lines.filter((l) => l.msg === "endpoint added").length).toBe(added);
    // A reload says it again.
    daemon.signal("SIGHUP");
    await daemon.waitFor((l) => l.msg === "policy reloaded");
    expect(daemon.lines.filter((l) => l.feature !== undefined).length).toBe(2 * expected.length);
  });

  it("after: the action happens after its delay, not before", async () => {
    const { lab, local } = await setUp(`${DECLS}on established then create via lte after 1s\n`);
    const server = await lab.startServer({ port: 5000 });
    const client = await connectAndSend(lab, { to: lab.address("server", "wifi"), port: server.port });
    const established = await local.waitForEvent("established", { token: client.token });
    await sleep(500);
    expect(await subflowsOf(lab, "client", client.token)).toHaveLength(1);
    const joined = await local.waitForEvent("subflow_established", { token: client.token, saddr: lab.address("client", "lte") }, 5000);
    // Times are when this process read the events: a busy test runner may read the first one late.
    expect(joined.time! - established.time!).toBeGreaterThanOrEqual(800);
    expect(await subflowsOf(lab, "client", client.token)).toHaveLength(2);
  });

  it("after: a delayed action is cancelled when its connection closes", async () => {
    const { lab, daemon, local } = await setUp(`${DECLS}on established then create via lte after 1s\n`);
    const server = await lab.startServer({ port: 5000 });
    const client = await connectAndSend(lab, { to: lab.address("server", "wifi"), port: server.port });
    await local.waitForEvent("established", { token: client.token });
    client.command("close");
    await local.waitForEvent("closed", { token: client.token });
    // The log is the only witness of what did not happen.
    expect(await daemon.waitForMessage("connection closed: delayed actions and retries cancelled")).toMatchObject({ token: client.token, cancelled: 1 });
    await sleep(1200);
    expect(daemon.lines.filter((l) => l["action"] === "create" && l["result"] !== undefined)).toEqual([]);
    expect(local.events.filter((e) => e.event === "subflow_established" || e.event === "subflow_closed")).toEqual([]);
  });

  it("limits subflows N: the daemon never opens more subflows than the limit, even when a rule asks for more at once", async () => {
    const { lab, peer } = await setUp(
      `${DECLS}limits subflows 2\non established then create via lte, create via lte to 10.0.2.2, create via wifi to 10.0.2.2\n`,
    );
    const server = await lab.startServer({ port: 5000 });
    const client = await connectAndSend(lab, { to: lab.address("server", "wifi"), port: server.port });
    const token = await serverToken(peer, client.sport);
    await waitForConnection(lab, "client", (c) => c.token === client.token && c.subflows.length === 3);
    await sleep(500);
    expect(await subflowsOf(lab, "client", client.token)).toHaveLength(3);
    expect(peer.events.filter((e) => e.event === "subflow_established" && e.token === token)).toHaveLength(2);
  });

  it("limits add_addr_accepted N: the daemon uses at most N of the addresses the peer announced", async () => {
    const { lab, local } = await setUp(`${DECLS}limits add_addr_accepted 1\non announced then create via lte to announced\n`, (lab) => {
      lab.ip("server", "addr", "add", "10.0.2.3/24", "dev", "lte");
      lab.ip("server", "mptcp", "endpoint", "add", lab.address("server", "lte"), "dev", "lte", "signal");
      lab.ip("server", "mptcp", "endpoint", "add", "10.0.2.3", "dev", "lte", "signal");
    });
    const server = await lab.startServer({ port: 5000 });
    const client = await connectAndSend(lab, { to: lab.address("server", "wifi"), port: server.port });
    await local.waitForEvent("announced", { token: client.token, daddr: lab.address("server", "lte") });
    await local.waitForEvent("announced", { token: client.token, daddr: "10.0.2.3" });
    await waitForConnection(lab, "client", (c) => c.token === client.token && c.subflows.length === 2);
    await sleep(500);
    const subflows = await subflowsOf(lab, "client", client.token);
    expect(subflows.filter((s) => s.daddr !== lab.address("server", "wifi"))).toHaveLength(1);
  });

  it("limits above this kernel's maximum: one warning with the limits line and the kernel's answer, the kernel's maximum instead, the rest enforced", async () => {
    const { lab, daemon, dir } = await setUp(`${DECLS}limits subflows 16\nendpoint lte subflow\n`);
    const file = join(dir, "policy.policy");
    const maximum = kernelLimitMaximum();
    const lowered = () => daemon.lines.filter((l) => l.level === 40 && l["maximum"] !== undefined);
    const limits = () => lab.ip("client", "mptcp", "limits", "show").trim();
    expect(limits()).toMatch(new RegExp(`\\bsubflows ${Math.min(16, maximum)}$`));
    if (maximum < 16) {
      expect(lowered()).toEqual([
        expect.objectContaining({
          at: `${file}:3`,
          maximum,
          result: "EINVAL",
          extack: expect.stringMatching(/^limit greater than maximum/),
          msg: expect.stringMatching(
            new RegExp(
              `^${escape(file)}:3: this kernel allows limits of at most ${maximum} \\(it answered "limit greater than maximum[^"]*"\\): set subflows ${maximum} instead of 16$`,
            ),
          ),
        }),
      ]);
    } else expect(lowered()).toEqual([]);
    // The rest of the policy is enforced.
    expect(lab.pathManagerOf("client")).toBe("kernel");
    expect(lab.ip("client", "mptcp", "endpoint", "show")).toMatch(new RegExp(`${escape(lab.address("client", "lte"))} id \\d+ subflow`));

    // A reload that changes the limits: said again, with the new line, and the daemon goes on.
    writeFileSync(file, `${DECLS}endpoint lte subflow\n\nlimits subflows 20 add_addr_accepted 2\n`);
    daemon.signal("SIGHUP");
    await daemon.waitForMessage("policy reloaded");
    expect(limits()).toBe(`add_addr_accepted 2 subflows ${Math.min(20, maximum)}`);
    expect(lowered().map((l) => l["at"])).toEqual(maximum < 16 ? [`${file}:3`, `${file}:5`] : []);
    expect(daemon.child.exitCode).toBeNull();
  });

  it("limits subflows above 8 under the userspace path manager: the daemon enforces them, whatever the kernel's maximum", async () => {
    const { lab, peer } = await setUp(
      // One create after another, paced within the action rate limit (bursts of 8, then 2 a second); the guard lets 19 through, the limit 10.
      `${DECLS}limits subflows 10\non established then create via lte\non subflow_established if subflows < 20 then create via lte after 300ms\n`,
      // The peer accepts any number of joins: its userspace path manager (the test's event log listens).
      (lab) => lab.pathManager("server", "userspace"),
    );
    expect(lab.pathManagerOf("client")).toBe("userspace");
    const server = await lab.startServer({ port: 5000 });
    const client = await connectAndSend(lab, { to: lab.address("server", "wifi"), port: server.port });
    const token = await serverToken(peer, client.sport);
    await waitForConnection(lab, "client", (c) => c.token === client.token && c.subflows.length === 11, 30_000);
    await sleep(1500);
    expect(await subflowsOf(lab, "client", client.token)).toHaveLength(11);
    expect(peer.events.filter((e) => e.event === "subflow_established" && e.token === token)).toHaveLength(10);
    // The kernel's own limits are left alone: they do not apply to the userspace path manager.
    expect(lab.ip("client", "mptcp", "limits", "show").trim()).toBe("add_addr_accepted 0 subflows 2");
  });

  it("IPv6: create via and announce use the interface's IPv6 address; destroy via finds the subflows of a link that went down", async () => {
    const policy = `${DECLS}on established if family ipv6 then create via lte backup, announce lte\non iface_down lte then destroy via lte after 300ms\n`;
    const { lab, peer, local } = await setUp(policy, (lab) => {
      // A host with a route to the peer on each link, as a phone has on Wi-Fi and LTE.
      // (IPv4 gets by without: a subflow bound to lte takes the peer's wifi address as on-link.)
      lab.ip("client", "-6", "route", "add", "fd00:1::/64", "via", lab.address("server", "lte", "ipv6"), "dev", "lte", "metric", "2048");
    });
    const lte6 = lab.address("client", "lte", "ipv6");
    const server = await lab.startServer({ port: 5000, family: "ipv6" });
    const client = await connectAndSend(lab, { to: lab.address("server", "wifi", "ipv6"), port: server.port });
    const connection = await waitForConnection(lab, "client", (c) => c.token === client.token && c.subflows.filter((s) => s.state === "ESTAB").length === 2);
    expect(connection.family).toBe("ipv6");
    expect(connection.subflows.find((s) => s.saddr === lte6)).toMatchObject({ family: "ipv6", daddr: lab.address("server", "wifi", "ipv6"), backup: true });
    const token = await serverToken(peer, client.sport);
    expect(await peer.waitForEvent("subflow_established", { token, daddr: lte6 })).toMatchObject({ family: "ipv6" });
    await peerSeesBackup(peer, token, lte6);
    await peer.waitForEvent("announced", { token, daddr: lte6 });

    // Regression: the link's IPv6 addresses go with it, and `destroy via lte` looked
    // for subflows by address only, so it found nothing to close.
    lab.ip("client", "link", "set", "lte", "down");
    await local.waitForEvent("subflow_closed", { token: client.token, saddr: lte6 });
    expect((await subflowsOf(lab, "client", client.token)).filter((s) => s.state === "ESTAB").map((s) => s.saddr)).toEqual([
      lab.address("client", "wifi", "ipv6"),
    ]);
  });

  it("after kill -9 and a restart, picks up the connection that is still open", async () => {
    const policy = `${DECLS}on established then create via lte backup\non iface_down wifi then set lte active\n`;
    const { lab, daemon, peer, dir } = await setUp(policy, routeOverLte);
    const server = await lab.startServer({ port: 5000 });
    const client = await connectAndSend(lab, { to: lab.address("server", "wifi"), port: server.port });
    await waitForConnection(lab, "client", (c) => c.token === client.token && c.subflows.some((s) => s.saddr === lab.address("client", "lte") && s.backup));
    daemon.signal("SIGKILL");
    expect(await daemon.exited).toBeNull();

    const restarted = await launch(lab, dir);
    expect(await restarted.waitForMessage("connections resynchronised")).toMatchObject({ connections: 1 });
    // A rule for every connection acts on the one the new daemon never saw being opened.
    lab.ip("client", "link", "set", "wifi", "down");
    await waitForConnection(lab, "client", (c) => c.token === client.token && c.subflows.some((s) => s.saddr === lab.address("client", "lte") && !s.backup));
    const token = await serverToken(peer, client.sport);
    await peer.waitForEvent("subflow_priority", { token, daddr: lab.address("client", "lte"), backup: false });
    // The state the first run found (the in-kernel path manager) is what comes back,
    // not the userspace one the killed daemon left behind.
    expect(await restarted.stop()).toBe(0);
    expect(lab.pathManagerOf("client")).toBe("kernel");
  });

  it("survives what the kernel refuses, and losing an interface, and serves the next connection", async () => {
    const { lab, daemon } = await setUp(`${DECLS}on established if remote port 5000 then create from 192.0.2.77\non established then create via lte\n`);
    const refused = await lab.startServer({ port: 5000 });
    const served = await lab.startServer({ port: 5001 });
    const first = await connectAndSend(lab, { to: lab.address("server", "wifi"), port: refused.port });
    // 192.0.2.77 is no address of this host: the kernel refuses the subflow, the daemon logs it.
    const failure = await daemon.waitFor((l) => l["action"] === "create" && l["token"] === first.token && l["result"] !== undefined);
    expect(failure).toMatchObject({ level: 40, result: "EADDRNOTAVAIL" });
    const second = await connectAndSend(lab, { to: lab.address("server", "wifi"), port: served.port });
    await waitForConnection(lab, "client", (c) => c.token === second.token && c.subflows.filter((s) => s.state === "ESTAB").length === 2);
    expect(await subflowsOf(lab, "client", first.token)).toHaveLength(1);

    // The lte link disappears altogether: `create via lte` has nothing to do, and the daemon goes on.
    lab.ip("client", "link", "del", "lte");
    const third = await connectAndSend(lab, { to: lab.address("server", "wifi"), port: served.port });
    await daemon.waitFor((l) => l["action"] === "create" && l["token"] === third.token && l["result"] === "nothing-to-do");
    expect(await subflowsOf(lab, "client", third.token)).toHaveLength(1);
    expect(daemon.child.exitCode).toBeNull();
    expect(daemon.lines.filter((l) => (l.level ?? 0) >= 50)).toEqual([]);
  });
});

describe.skipIf(!canRunLab())("mptcp-policy run: refusals", () => {
  it("refuses to start without CAP_NET_ADMIN: non-zero exit, one line", async () => {
    const lab = await newLab();
    const dir = writePolicy(`${DECLS}on established then create via lte\n`);
    const result = runCliIn(lab, "client", ["run", "--config", dir], withoutCapabilities());
    expect(result.status).not.toBe(0);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/CAP_NET_ADMIN/);
    expect(lab.pathManagerOf("client")).toBe("kernel");
  });

  it("refuses to start when MPTCP is disabled in the namespace, saying how to enable it", async () => {
    const lab = await newLab();
    lab.sysctl("client", "net.mptcp.enabled", 0);
    const dir = writePolicy(`${DECLS}on established then create via lte\n`);
    const result = runCliIn(lab, "client", ["run", "--config", dir]);
    expect(result.status).not.toBe(0);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain("sysctl -w net.mptcp.enabled=1");
  });

  it("refuses a policy file writable by others, and accepts it with --insecure-permissions", async () => {
    const lab = await newLab();
    const dir = writePolicy(`${DECLS}endpoint lte subflow\n`);
    chmodSync(join(dir, "policy.policy"), 0o646);
    const result = runCliIn(lab, "client", ["run", "--config", dir]);
    expect(result.status).not.toBe(0);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/policy\.policy is writable by others/);
    expect(lab.ip("client", "mptcp", "endpoint", "show").trim()).toBe("");

    await launch(lab, dir, ["--insecure-permissions"]);
    expect(lab.ip("client", "mptcp", "endpoint", "show")).toContain(lab.address("client", "lte"));
  });
});
