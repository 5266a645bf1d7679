// The cost of stale detection on a busy host: N idle open connections of two
// subflows each (an lte `subflow` endpoint), and the daemon's sampling step (one
// sock_diag dump of both families and the detector over every subflow) timed with
// this process's CPU counters, user and system: the kernel builds the dump inside
// the recvmsg calls, so its share is counted too.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { ConnectionTable } from "../../compiler/connections.js";
import { SockDiag, type InterfaceTracker } from "../../runtime/netlink/index.js";
import { StaleWatch } from "../../runtime/daemon/stale-watch.js";
import { monotonicNow } from "../../runtime/daemon/subflow-sampler.js";
import { Lab } from "../../test/lab/topology.js";

export interface StaleCost {
  readonly connections: number;
  readonly subflows: number;
  readonly samples: number;
  /** CPU per sampling step (ms), and its share of one core at the default 100 ms interval. */
  readonly cpu_ms_per_sample: number;
  readonly cpu_share_at_100ms: number;
}

export async function measureStaleCost(root: string, connections: number, samples = 50): Promise<StaleCost> {
  const lab = await Lab.create();
  const peer = join(root, "scripts/bench-failover-peer.py");
  const children = [] as ReturnType<typeof spawn>[];
  const started = (ns: string, args: string[], ready: string) => {
    const child = spawn("ip", ["netns", "exec", ns, "python3", "-u", peer, ...args], { stdio: ["pipe", "pipe", "inherit"] });
    children.push(child);
    return new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on("line", (line) => line.includes(`"${ready}"`) && resolve());
      child.on("exit", (code) => reject(new Error(`${args[0]} exited with ${code}`)));
    });
  };
  const diag = new SockDiag({ netns: lab.client });
  try {
    lab.ip("server", "mptcp", "limits", "set", "subflows", "8", "add_addr_accepted", "0");
    lab.ip("client", "mptcp", "limits", "set", "subflows", "2", "add_addr_accepted", "0");
    lab.ip("client", "mptcp", "endpoint", "add", lab.address("client", "lte"), "dev", "lte", "subflow");
    await started(lab.server, ["sink", "--port", "5555"], "listening");
    await started(lab.client, ["hold", "--address", lab.address("server", "wifi"), "--port", "5555", "--count", String(connections)], "held");
    let subflows = await diag.subflows({ established: true });
    const deadline = monotonicNow() + 30_000;
    while (subflows.length < 2 * connections && monotonicNow() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      subflows = await diag.subflows({ established: true });
    }
    // The daemon follows every one of these connections.
    const table = new ConnectionTable();
    for (const s of subflows) table.apply({ event: "established", token: s.token });
    const tracker = { interfaceOf: () => undefined, nameOf: () => undefined } as unknown as InterfaceTracker;
    const watch = new StaleWatch(table, tracker);
    for (let i = 0; i < 5; i++) watch.events(monotonicNow(), await diag.subflows({ established: true }));
    const before = process.cpuUsage();
    for (let i = 0; i < samples; i++) watch.events(monotonicNow(), await diag.subflows({ established: true }));
    const used = process.cpuUsage(before);
    const cpuMs = (used.user + used.system) / 1000 / samples;
    const dumpOnly = process.cpuUsage();
    for (let i = 0; i < samples; i++) await diag.subflows({ established: true });
    const dumpUsed = process.cpuUsage(dumpOnly);
    process.stderr.write(`stale cost: user ${(used.user / 1000 / samples).toFixed(2)} ms, system ${(used.system / 1000 / samples).toFixed(2)} ms per sample; the dump alone ${((dumpUsed.user + dumpUsed.system) / 1000 / samples).toFixed(2)} ms\n`);
    return { connections, subflows: subflows.length, samples, cpu_ms_per_sample: Number(cpuMs.toFixed(2)), cpu_share_at_100ms: Number((cpuMs / 100).toFixed(4)) };
  } finally {
    diag.close();
    for (const child of children) child.kill("SIGKILL");
    await lab.destroy();
  }
}
