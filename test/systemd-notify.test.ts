// The daemon's sd_notify messages, received by a real Unix datagram socket (python3,
// SO_PASSCRED, as systemd's own is) on a path and on an abstract name: who sent them
// (the main process, as NotifyAccess=main wants), READY=1 after start, WATCHDOG=1 at
// half of WATCHDOG_USEC, RELOADING=1/READY=1 around a reload, STOPPING=1. The same
// unit under a real systemd is test/systemd-unit.test.ts (the kernel lab's --systemd guest).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { Lab } from "./lab/topology.js";
import { policyDir } from "./daemon-support.js";
import { buildCli, CLI } from "./helpers.js";

const RECEIVER = `
import json, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
name = sys.argv[1]
s.bind("\\0" + name[1:] if name.startswith("@") else name)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
print(json.dumps({"listening": True}), flush=True)
while True:
    data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
    pid = next((struct.unpack("iII", d)[0] for level, kind, d in anc if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS), None)
    print(json.dumps({"pid": pid, "message": data.decode()}), flush=True)
`;

interface Datagram {
  readonly pid: number;
  readonly message: string;
  readonly at: number;
}

let lab: Lab | undefined;
const children: ChildProcess[] = [];
const temps: string[] = [];

beforeAll(() => buildCli());

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  await lab?.destroy();
  lab = undefined;
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

class Receiver {
  readonly datagrams: Datagram[] = [];
  private waiters: (() => void)[] = [];
  constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const parsed = JSON.parse(line) as { pid?: number; message?: string };
      if (parsed.message !== undefined) this.datagrams.push({ pid: parsed.pid ?? -1, message: parsed.message, at: Date.now() });
      for (const w of this.waiters.splice(0)) w();
    });
  }
  async waitFor(match: (d: Datagram) => boolean, timeoutMs = 15_000): Promise<Datagram> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.datagrams.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching datagram; got ${JSON.stringify(this.datagrams)}`);
      await new Promise<void>((r) => (this.waiters.push(r), setTimeout(r, 200)));
    }
  }
}

async function receiver(lab: Lab, socket: string): Promise<Receiver> {
  const child = spawn("ip", ["netns", "exec", lab.client, "python3", "-c", RECEIVER, socket], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  const r = new Receiver(child);
  await new Promise<void>((resolve) => createInterface({ input: child.stdout! }).once("line", () => resolve()));
  return r;
}

function daemon(lab: Lab, config: string, env: Record<string, string>): ChildProcess {
  const stateDir = join(tmpdir(), `mptcp-policy-state-${lab.client}`);
  temps.push(stateDir);
  const child = spawn(
    "ip",
    [
      "netns",
      "exec",
      lab.client,
      "env",
      ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
      process.execPath,
      CLI,
      "run",
      "--config",
      config,
      "--state-dir",
      stateDir,
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  children.push(child);
  return child;
}

describe("sd_notify", () => {
  for (const kind of ["path", "abstract"] as const) {
    it(`sends READY=1, WATCHDOG=1 at half of WATCHDOG_USEC, RELOADING=1/READY=1 and STOPPING=1 from the main process (${kind} socket)`, async () => {
      lab = await Lab.create();
      const dir = mkdtempSync(join(tmpdir(), "mptcp-policy-notify-"));
      temps.push(dir);
      const socket = kind === "path" ? join(dir, "notify.sock") : `@mptcp-policy-test-${process.pid}-${Date.now()}`;
      const r = await receiver(lab, socket);
      const config = policyDir({ "policy.policy": 'interface wifi = "wifi"\ninterface lte = "lte"\non established if iface wifi then create via lte\n' });
      temps.push(config);
      const child = daemon(lab, config, { NOTIFY_SOCKET: socket, WATCHDOG_USEC: "400000" });
      const ready = await r.waitFor((d) => d.message.startsWith("READY=1"));
      // `ip netns exec` and `env` exec: the daemon is the process spawned, as MAINPID would be.
      expect(ready.pid).toBe(child.pid);
      expect(ready.message).toBe(`READY=1\nSTATUS=policy ${config} (1 rule), userspace path manager, 0 connections`);
      await r.waitFor((d) => d.message.startsWith("WATCHDOG=1") && d.at > ready.at + 1000);
      const pings = r.datagrams.filter((d) => d.message.startsWith("WATCHDOG=1")).map((d) => d.at);
      const gaps = pings.slice(1).map((t, i) => t - pings[i]!);
      // 200 ms apart (half of 400 ms), give or take a loaded machine's timer.
      expect(Math.min(...gaps)).toBeGreaterThan(150);
      expect(Math.max(...gaps)).toBeLessThan(400);

      writeFileSync(join(config, "policy.policy"), "on established then frobnicate\n");
      const before = r.datagrams.length;
      child.kill("SIGHUP");
      await r.waitFor((d) => d.message.startsWith("RELOADING=1\nMONOTONIC_USEC="));
      const rejected = await r.waitFor((d) => r.datagrams.indexOf(d) >= before && d.message.startsWith("READY=1"));
      expect(rejected.message).toBe(
        `READY=1\nSTATUS=last reload rejected, the running policy stays: policy ${config} (1 rule), userspace path manager, 0 connections`,
      );

      child.kill("SIGTERM");
      const stopping = await r.waitFor((d) => d.message.startsWith("STOPPING=1"));
      expect(stopping.pid).toBe(child.pid);
      expect(await new Promise((resolve) => child.once("exit", resolve))).toBe(0);
    }, 40_000);
  }

  it("without NOTIFY_SOCKET sends nothing and needs nothing", async () => {
    lab = await Lab.create();
    const config = policyDir({ "policy.policy": 'interface wifi = "wifi"\non established if iface wifi then log "x"\n' });
    temps.push(config);
    const child = daemon(lab, config, { WATCHDOG_USEC: "400000" });
    await new Promise((r) => setTimeout(r, 3000));
    child.kill("SIGTERM");
    expect(await new Promise((resolve) => child.once("exit", resolve))).toBe(0);
  }, 20_000);

  it("a loop blocked for good (the test-only hang) stops the pings", async () => {
    lab = await Lab.create();
    const socket = `@mptcp-policy-test-hang-${process.pid}`;
    const r = await receiver(lab, socket);
    const config = policyDir({ "policy.policy": 'interface wifi = "wifi"\non established if iface wifi then log "x"\n' });
    temps.push(config);
    const child = daemon(lab, config, { NOTIFY_SOCKET: socket, WATCHDOG_USEC: "400000", MPTCP_POLICY_TEST_HANG_ON_SIGUSR2: "1" });
    const ready = await r.waitFor((d) => d.message.startsWith("READY=1"));
    await r.waitFor((d) => d.message.startsWith("WATCHDOG=1") && d.at > ready.at + 500);
    child.kill("SIGUSR2");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const hungAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(r.datagrams.filter((d) => d.at > hungAt)).toEqual([]);
    // A blocked loop answers no signal but SIGKILL (systemd's last word).
    child.kill("SIGKILL");
    expect(await new Promise((resolve) => child.once("exit", (_code, signal) => resolve(signal)))).toBe("SIGKILL");
  }, 30_000);
});
