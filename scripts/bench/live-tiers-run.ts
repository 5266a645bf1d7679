// The live scheduler tiers' benchmark body (scripts/bench-live-tiers.mjs bundles it):
//
//  1. Reaction: the daemon runs `use where rtt < 100ms by lowest rtt` then `use any` on a
//     lab whose links have 10 ms and 150 ms round trips (netem; without it, as on this
//     host, a token bucket whose queue delays the loaded link), a transfer runs,
//     and the links swap --swaps times; each reaction is the time from the swap to the
//     first 200 ms in which the now-fast link carried 80 % of the bytes acknowledged
//     (tcp_info bytes_acked per subflow, as `ss -ti`). MP_PRIO changes are counted from
//     the daemon's debug log over a steady stretch.
//  2. Cost: the tiers' step (LiveTiers.onSample, the dump excluded: stale detection's
//     benchmark has it) on N idle connections of two subflows each, CPU per connection
//     per second at the default interval.
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ConnectionTable } from "../../compiler/connections.js";
import { interfaceMatcher } from "../../compiler/interfaces.js";
import type { PolicyModel } from "../../compiler/model.js";
import { compilePolicy } from "../../compiler/pipeline.js";
import { DEFAULT_SCHEDULER_INTERVAL_MS, LiveTiers } from "../../runtime/daemon/live-tiers.js";
import { createLogger } from "../../runtime/daemon/logger.js";
import { monotonicNow } from "../../runtime/daemon/subflow-sampler.js";
import { SockDiag, type InterfaceTracker, type MptcpPathManager } from "../../runtime/netlink/index.js";
import { monotonicMs } from "../../test/lab/faults.js";
import { Lab, type LinkName } from "../../test/lab/topology.js";
import { bytesPerLink, LabProcesses, shareOf, slowLink, startTransfer } from "../../test/lab/transfer.js";

const PORT = 5301;

export const POLICY = `interface wifi = "wifi"
interface lte = "lte"
on established if iface wifi then create via lte
scheduler fast {
  use where rtt < 100ms by lowest rtt
  use any
}
`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function spawnIn(ns: string, command: string[], children: ChildProcess[]): ChildProcess {
  const child = spawn("ip", ["netns", "exec", ns, ...command], { stdio: ["pipe", "pipe", "pipe"] });
  children.push(child);
  return child;
}

function untilLine(child: ChildProcess, match: (line: string) => boolean, lines?: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      lines?.push(line);
      if (match(line)) resolve();
    });
    child.on("exit", (code) => reject(new Error(`exited with ${code}`)));
  });
}

export interface ReactionResult {
  readonly netem: boolean;
  readonly reactions_ms: number[];
  readonly mp_prio_per_minute_steady: number;
}

export async function measureReaction(root: string, swaps: number, steadySeconds: number, log: (l: string) => void): Promise<ReactionResult> {
  const netem = Lab.netemAvailable();
  const lab = await Lab.create();
  const children: ChildProcess[] = [];
  const procs = new LabProcesses();
  const dir = mkdtempSync(join(tmpdir(), "mptcp-policy-tiers-"));
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, "policy.policy"), POLICY, { mode: 0o644 });
  try {
    lab.ip("server", "mptcp", "limits", "set", "subflows", "8", "add_addr_accepted", "8");
    const daemonLines: string[] = [];
    const daemon = spawnIn(lab.client, [process.execPath, join(root, "bin/mptcp-policy"), "run", "--config", dir, "--no-watch", "--log-level", "debug", "--state-dir", dir], children);
    await untilLine(daemon, (l) => l.includes('"msg":"running"'), daemonLines);
    await slowLink(lab, procs, "lte");
    await startTransfer(lab, procs, PORT, 400_000);
    await sleep(4000);
    const reactions: number[] = [];
    let slow: LinkName = "lte";
    for (let i = 0; i < swaps; i++) {
      const fastNow = slow;
      slow = slow === "lte" ? "wifi" : "lte";
      const swappedAt = monotonicMs();
      await slowLink(lab, procs, slow);
      let reacted: number | undefined;
      while (monotonicMs() - swappedAt < 30_000) {
        if (shareOf(await bytesPerLink(lab, 200, PORT), fastNow) >= 0.8) {
          reacted = monotonicMs() - swappedAt;
          break;
        }
      }
      log(`swap ${i + 1}: ${reacted === undefined ? "no reaction within 30 s" : `${Math.round(reacted)} ms`}`);
      if (reacted !== undefined) reactions.push(Math.round(reacted));
      await sleep(3000);
    }
    const countChanges = () => daemonLines.filter((l) => l.includes('"msg":"live scheduler tier"') && l.includes('"result":"ok"')).length;
    const steadyFrom = countChanges();
    await sleep(steadySeconds * 1000);
    const steady = ((countChanges() - steadyFrom) * 60) / steadySeconds;
    return { netem, reactions_ms: reactions, mp_prio_per_minute_steady: Number(steady.toFixed(2)) };
  } finally {
    procs.killAll();
    for (const child of children) child.kill("SIGKILL");
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface TierCost {
  readonly connections: number;
  readonly cpu_us_per_connection_per_second: number;
}

/** The tiers' step alone, on the subflows of N held connections (dry run: nothing sent). */
export async function measureTierCost(root: string, connections: number): Promise<TierCost> {
  const lab = await Lab.create();
  const peer = join(root, "scripts/bench-failover-peer.py");
  const children: ChildProcess[] = [];
  const diag = new SockDiag({ netns: lab.client });
  try {
    lab.ip("server", "mptcp", "limits", "set", "subflows", "8", "add_addr_accepted", "0");
    lab.ip("client", "mptcp", "limits", "set", "subflows", "2", "add_addr_accepted", "0");
    lab.ip("client", "mptcp", "endpoint", "add", lab.address("client", "lte"), "dev", "lte", "subflow");
    await untilLine(spawnIn(lab.server, ["python3", "-u", peer, "sink", "--port", "5555"], children), (l) => l.includes("listening"));
    await untilLine(spawnIn(lab.client, ["python3", "-u", peer, "hold", "--address", lab.address("server", "wifi"), "--port", "5555", "--count", String(connections)], children), (l) => l.includes("held"));
    let subflows = await diag.subflows({ established: true });
    const deadline = monotonicNow() + 30_000;
    while (subflows.length < 2 * connections && monotonicNow() < deadline) {
      await sleep(200);
      subflows = await diag.subflows({ established: true });
    }
    const model = compilePolicy([{ name: "p.policy", text: POLICY }]).model as PolicyModel;
    const table = new ConnectionTable();
    for (const s of subflows) {
      table.apply({ event: "established", token: s.token, family: "ipv4" });
      table.apply({ event: "subflow_established", token: s.token, family: s.family, saddr: s.saddr, daddr: s.daddr, sport: s.sport, dport: s.dport, backup: s.backup, ifname: s.saddr === lab.address("client", "wifi") ? "wifi" : "lte" });
    }
    const tracker = { interfaceOf: () => undefined, nameOf: () => undefined } as unknown as InterfaceTracker;
    const tiers = new LiveTiers({ table, tracker, pm: {} as MptcpPathManager, logger: createLogger("silent", process.stderr), dryRun: true, intervalMs: 0, policy: () => ({ model, matcher: interfaceMatcher(model) }) });
    for (let i = 0; i < 3; i++) tiers.onSample(monotonicNow(), subflows);
    const rounds = 30;
    const before = process.cpuUsage();
    for (let i = 0; i < rounds; i++) tiers.onSample(monotonicNow(), subflows);
    const used = process.cpuUsage(before);
    const perRoundUs = (used.user + used.system) / rounds;
    const perSecond = (perRoundUs * 1000) / DEFAULT_SCHEDULER_INTERVAL_MS;
    return { connections: table.connections.size, cpu_us_per_connection_per_second: Number((perSecond / Math.max(1, table.connections.size)).toFixed(2)) };
  } finally {
    diag.close();
    for (const child of children) child.kill("SIGKILL");
    await lab.destroy();
  }
}
