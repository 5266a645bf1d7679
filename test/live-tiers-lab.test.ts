// The live scheduler tiers steering a real transfer on the real kernel (no BPF hook on
// any released kernel): a policy whose first step tests metrics only, `use where rtt <
// 100ms by lowest rtt`, then `use any`. The witness is the kernel's count of bytes
// acknowledged per subflow (tcp_info bytes_acked, as `ss -ti` and the MPTCP selftests
// read it). With netem (the kernel lab's guests) the links have 10 ms and 150 ms round
// trips and then swap; without it (this host) a token bucket with a deep queue on one
// link makes its round trip grow under load, and then moves to the other link.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { SockDiag } from "../runtime/netlink/index.js";
import { Lab, type LinkName } from "./lab/topology.js";
import { policyDir, startDaemon, waitForConnection, type RunningDaemon } from "./daemon-support.js";
import { buildCli, ROOT } from "./helpers.js";

const PEER = join(ROOT, "scripts/bench-failover-peer.py");
const POLICY = `interface wifi = "wifi"
interface lte = "lte"
on established if iface wifi then create via lte
scheduler fast {
  use where rtt < 100ms by lowest rtt
  use any
}
`;
const INTERVAL_MS = 250;
const netem = Lab.netemAvailable();
let lab: Lab | undefined;
let daemon: RunningDaemon | undefined;
const children: ChildProcess[] = [];
const dirs: string[] = [];

beforeAll(() => buildCli());
afterEach(async () => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  await daemon?.stop();
  daemon = undefined;
  await lab?.destroy();
  lab = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Make one link slow: 75 ms each way with netem, else a 2 Mbit/s bucket with a 300 ms queue. */
function slow(lab: Lab, link: LinkName): void {
  const fast: LinkName = link === "wifi" ? "lte" : "wifi";
  if (netem) {
    for (const side of ["client", "server"] as const) {
      lab.setNetem(side, link, { delayMs: 75 });
      lab.setNetem(side, fast, { delayMs: 5 });
    }
    return;
  }
  for (const [dev, rule] of [[fast, ["del"]], [link, ["replace", "root", "tbf", "rate", "2mbit", "burst", "8kb", "latency", "300ms"]]] as const) {
    spawnSync("tc", ["-n", lab.client, "qdisc", rule[0], "dev", dev, ...(rule[0] === "del" ? ["root"] : rule.slice(1))], { stdio: "ignore" });
  }
}

const start = (ns: string, args: string[], ready: string) => {
  const child = spawn("ip", ["netns", "exec", ns, "python3", "-u", PEER, ...args], { stdio: ["pipe", "pipe", "inherit"] });
  children.push(child);
  return new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => line.includes(`"${ready}"`) && resolve());
    child.on("exit", () => reject(new Error(`${args[0]} exited`)));
  });
};

/**
 * Keep a link's queue full with a competing plain TCP flow, so its round trip is long
 * even when our connection sends nothing on it (without netem a bucket adds delay only
 * under load).
 */
async function congest(lab: Lab, link: LinkName, port: number): Promise<void> {
  if (netem) return;
  await start(lab.server, ["server", "--port", String(port)], "listening");
  await start(lab.client, ["client", "--tcp", "--address", lab.address("server", link), "--port", String(port), "--rate", "1000000"], "connected");
}

async function transfer(lab: Lab, port: number): Promise<void> {
  await start(lab.server, ["server", "--port", String(port)], "listening");
  await start(lab.client, ["client", "--address", lab.address("server", "wifi"), "--port", String(port), "--rate", "400000"], "connected");
}

/** Bytes acknowledged per link over `ms` (the client's subflows, by local address). */
async function bytesPerLink(lab: Lab, ms: number): Promise<Record<LinkName, number>> {
  const diag = new SockDiag({ netns: lab.client });
  try {
    const read = async () => {
      const out = { wifi: 0, lte: 0 };
      for (const s of await diag.subflows({ established: true })) {
        const link: LinkName = s.saddr === lab.address("client", "wifi") ? "wifi" : "lte";
        out[link] += s.tcp?.bytes_acked ?? 0;
      }
      return out;
    };
    const before = await read();
    await new Promise((resolve) => setTimeout(resolve, ms));
    const after = await read();
    return { wifi: after.wifi - before.wifi, lte: after.lte - before.lte };
  } finally {
    diag.close();
  }
}

const share = (bytes: Record<LinkName, number>, link: LinkName) => bytes[link] / Math.max(1, bytes.wifi + bytes.lte);

/** The opposite of what the kernel's default scheduler prefers: the slow subflow. */
const SLOW_POLICY = POLICY.replace("scheduler fast {\n  use where rtt < 100ms by lowest rtt", "scheduler slow {\n  use where rtt > 50ms by highest rtt");

async function setUp(fallback: "approximate" | "off", port: number, policy = POLICY): Promise<{ lab: Lab; daemon: RunningDaemon }> {
  lab = await Lab.create();
  lab.ip("server", "mptcp", "limits", "set", "subflows", "8", "add_addr_accepted", "8");
  const dir = policyDir({ "policy.policy": policy });
  dirs.push(dir);
  slow(lab, "lte");
  daemon = startDaemon(lab, "client", ["--config", dir, "--scheduler-interval", `${INTERVAL_MS}ms`, "--scheduler-fallback", fallback]);
  await daemon.waitForMessage("running");
  await transfer(lab, port);
  await waitForConnection(lab, "client", (c) => c.subflows.length === 2);
  return { lab, daemon };
}

describe("live scheduler tiers on the kernel", { timeout: 120_000 }, () => {
  it("sends the bulk on the fast subflow, and follows when the links swap", async () => {
    const { lab, daemon } = await setUp("approximate", 5101);
    await daemon.waitForMessage("live scheduler tiers on: subflow metrics steer the backup flags");
    // Settle: round trips measured on both, the tier applied (two agreeing samples).
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const before = await bytesPerLink(lab, 2000);
    expect(share(before, "wifi")).toBeGreaterThan(0.8);
    const swappedAt = Date.now();
    slow(lab, "wifi");
    // Follows within two intervals and the hysteresis, plus the round trips it must measure
    // (a backup subflow carries nothing, so its RTT sample is old until `use any` lets it carry again).
    let after = await bytesPerLink(lab, 1000);
    while (share(after, "lte") <= 0.8 && Date.now() - swappedAt < 20_000) after = await bytesPerLink(lab, 1000);
    expect(share(after, "lte")).toBeGreaterThan(0.8);
    const changes = daemon.lines.filter((l) => l.msg === "live scheduler tier" && l["result"] === "ok");
    expect(changes.length).toBeGreaterThanOrEqual(2);
    process.stderr.write(`live tiers: before the swap wifi carried ${(100 * share(before, "wifi")).toFixed(0)} %; after it lte carried ${(100 * share(after, "lte")).toFixed(0)} % within ${Date.now() - swappedAt} ms; ${changes.length} MP_PRIO changes\n`);
  });

  it("steers against the kernel's own preference: a policy for the slow subflow gets it, and without the tiers the kernel avoids it", async () => {
    const steered = await setUp("approximate", 5102, SLOW_POLICY);
    await congest(steered.lab, "lte", 5202);
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const ours = await bytesPerLink(steered.lab, 2000);
    expect(share(ours, "lte")).toBeGreaterThan(0.8);
    await daemon?.stop();
    daemon = undefined;
    await lab?.destroy();
    const plain = await setUp("off", 5103, SLOW_POLICY);
    await congest(plain.lab, "lte", 5203);
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const kernels = await bytesPerLink(plain.lab, 2000);
    expect(plain.daemon.lines.some((l) => l.msg === "live scheduler tier")).toBe(false);
    expect(share(kernels, "lte")).toBeLessThan(0.5);
    process.stderr.write(`slow-subflow policy: lte carried ${(100 * share(ours, "lte")).toFixed(0)} % with the tiers, ${(100 * share(kernels, "lte")).toFixed(0)} % with --scheduler-fallback=off (the kernel's own choice)\n`);
  });
});
