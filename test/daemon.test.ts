// The daemon on the real kernel, in fresh lab namespaces: every assertion reads what
// the kernel reports (sock_diag, endpoints, sysctls), not the daemon's own log,
// except where the log is the product (dry-run, a rejected reload).
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { Lab } from "./lab/topology.js";
import { policyDir, startDaemon, waitForConnection, type RunningDaemon } from "./daemon-support.js";
import { buildCli, ROOT } from "./helpers.js";

const DECLS = 'interface wifi = "wifi"\ninterface lte = "lte"\n';
let lab: Lab | undefined;
let daemon: RunningDaemon | undefined;
const dirs: string[] = [];

beforeAll(() => {
  buildCli();
});

afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  await lab?.destroy();
  lab = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Connect over wifi and send data: the client is fully established only after it sends. */
async function connectOverWifi(lab: Lab, port: number) {
  const client = await lab.connect({ to: lab.address("server", "wifi"), port });
  client.command("send 1000");
  return client;
}

async function setUp(policy: string, args: string[] = []): Promise<{ lab: Lab; daemon: RunningDaemon; dir: string }> {
  lab = await Lab.create();
  // The server accepts joins and announcements (the kernel's default limits are low).
  lab.ip("server", "mptcp", "limits", "set", "subflows", "8", "add_addr_accepted", "8");
  const dir = policyDir({ "policy.policy": policy });
  dirs.push(dir);
  daemon = startDaemon(lab, "client", ["--config", dir, ...args]);
  await daemon.waitForMessage("running");
  return { lab, daemon, dir };
}

describe("mptcp-policy run", () => {
  it("creates a backup subflow via lte when a connection over wifi is established, and restores the path manager on SIGTERM", async () => {
    const { lab, daemon } = await setUp(`${DECLS}on established if iface wifi then create via lte backup\n`);
    expect(lab.pathManagerOf("client")).toBe("userspace");
    const server = await lab.startServer({ port: 5000 });
    const client = await connectOverWifi(lab, server.port);
    const connection = await waitForConnection(lab, "client", (c) => c.subflows.length === 2);
    expect(connection.token).toBe(client.token);
    const extra = connection.subflows.find((s) => s.saddr === lab.address("client", "lte"));
    expect(extra).toMatchObject({ daddr: lab.address("server", "wifi"), backup: true });
    expect(await daemon.stop()).toBe(0);
    expect(lab.pathManagerOf("client")).toBe("kernel");
  });

  it("lowers endpoint-only policies to the in-kernel path manager and removes its endpoints on exit", async () => {
    const { lab, daemon } = await setUp(`${DECLS}limits subflows 3\nendpoint lte subflow\non iface_down wifi then set lte active\n`);
    expect(lab.pathManagerOf("client")).toBe("kernel");
    expect(lab.ip("client", "mptcp", "endpoint", "show")).toContain(`${lab.address("client", "lte")} id`);
    expect(lab.ip("client", "mptcp", "limits", "show")).toContain("subflows 3");
    const server = await lab.startServer({ port: 5001 });
    await connectOverWifi(lab, server.port);
    await waitForConnection(lab, "client", (c) => c.subflows.some((s) => s.saddr === lab.address("client", "lte")));
    expect(await daemon.stop()).toBe(0);
    expect(lab.ip("client", "mptcp", "endpoint", "show").trim()).toBe("");
  });

  it("with --dry-run decides and logs but sends nothing", async () => {
    const { lab, daemon } = await setUp(`${DECLS}on established then create via lte\n`, ["--dry-run"]);
    const server = await lab.startServer({ port: 5002 });
    await connectOverWifi(lab, server.port);
    await daemon.waitFor((l) => l["result"] === "dry-run");
    await new Promise((r) => setTimeout(r, 500));
    const connection = await waitForConnection(lab, "client", () => true);
    expect(connection.subflows).toHaveLength(1);
    // Dry-run does not touch the path manager either.
    expect(lab.pathManagerOf("client")).toBe("kernel");
  });

  it("rejects a broken policy on reload and keeps running the old one; applies a good one", async () => {
    const { lab, daemon, dir } = await setUp(`${DECLS}endpoint lte subflow\n`, ["--no-watch"]);
    writeFileSync(join(dir, "policy.policy"), `${DECLS}endpoint lte subflow\non established then create via wfi\n`);
    daemon.signal("SIGHUP");
    await daemon.waitForMessage("the new policy was rejected; the running policy stays in force");
    expect(daemon.lines.some((l) => typeof l.msg === "string" && l.msg.includes("error[E100]"))).toBe(true);
    expect(lab.ip("client", "mptcp", "endpoint", "show")).toContain(lab.address("client", "lte"));
    writeFileSync(join(dir, "policy.policy"), `${DECLS}endpoint wifi signal\n`);
    daemon.signal("SIGHUP");
    await daemon.waitForMessage("policy reloaded");
    const endpoints = lab.ip("client", "mptcp", "endpoint", "show");
    expect(endpoints).toContain(`${lab.address("client", "wifi")} id`);
    expect(endpoints).not.toContain(lab.address("client", "lte"));
  });

  it("approximates a scheduler without the BPF hook: subflows off its first tier become backups", async () => {
    const { lab, daemon } = await setUp(`${DECLS}on established if iface wifi then create via lte\nscheduler prefer_wifi {\n  use where iface wifi and rtt < 150ms\n  use any\n}\n`);
    await daemon.waitFor((l) => l["scheduler"] === "prefer_wifi" && l["fallback"] === "approximated");
    const server = await lab.startServer({ port: 5003 });
    await connectOverWifi(lab, server.port);
    const connection = await waitForConnection(lab, "client", (c) => c.subflows.some((s) => s.saddr === lab.address("client", "lte") && s.backup));
    expect(connection.subflows.find((s) => s.saddr === lab.address("client", "wifi"))?.backup).toBe(false);
  });

  it("leaves backup flags alone with --scheduler-fallback=off", async () => {
    const { lab } = await setUp(`${DECLS}on established if iface wifi then create via lte\nscheduler prefer_wifi {\n  use where iface wifi\n  use any\n}\n`, ["--scheduler-fallback", "off"]);
    const server = await lab.startServer({ port: 5004 });
    await connectOverWifi(lab, server.port);
    const connection = await waitForConnection(lab, "client", (c) => c.subflows.length === 2);
    await new Promise((r) => setTimeout(r, 500));
    expect(connection.subflows.every((s) => !s.backup)).toBe(true);
  });

  it("carries out an interface rule once per change (regression: interface events arrived twice)", async () => {
    const { lab, daemon } = await setUp(`${DECLS}endpoint wifi subflow\non iface_down lte then log "lte down"\n`);
    lab.ip("client", "link", "set", "lte", "down");
    await daemon.waitForMessage("lte down");
    await new Promise((r) => setTimeout(r, 500));
    expect(daemon.lines.filter((l) => l.msg === "lte down")).toHaveLength(1);
  });
  it("sleeps while idle: once its requests are answered no timer wakes it (regression: each netlink socket's deadline sweep ran every second for good)", async () => {
    const { lab, daemon } = await setUp(`${DECLS}on established if iface wifi then create via lte\n`);
    const server = await lab.startServer({ port: 5000 });
    await connectOverWifi(lab, server.port);
    await waitForConnection(lab, "client", (c) => c.subflows.length === 2);
    // The main thread's context switches: each is a wakeup. V8 may collect garbage some
    // seconds after start (a burst of wakeups); before the fix every 3-second window
    // had 6 or more, the sockets' sweeps alone.
    const pid = daemon.child.pid!;
    const switches = () => Number(/^nr_switches\s*:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/sched`, "utf8"))?.[1]);
    const windows: number[] = [];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !windows.some((n) => n <= 1)) {
      const before = switches();
      await new Promise((resolve) => setTimeout(resolve, 3000));
      windows.push(switches() - before);
    }
    expect(windows.some((n) => n <= 1), `wakeups per 3-second window: ${windows.join(", ")}`).toBe(true);
  });
});
