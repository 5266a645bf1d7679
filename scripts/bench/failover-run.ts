// The failover benchmark's body (scripts/bench-failover.mjs bundles and runs it, on
// this host or inside a kernel lab guest). For each fault and path manager, N trials,
// each in a fresh lab (test/lab/topology.ts) whose client links are named wlan0 and
// wwan0, so that examples/laptop-wifi-lte/ runs as shipped:
//
//  1. the server namespace accepts joins (limits subflows 8) and reads one MPTCP
//     connection, noting when data arrives (scripts/bench-failover-peer.py);
//  2. the manager starts in the client namespace: `kernel` (an lte `subflow backup`
//     endpoint, limits subflows 2), `mptcp-policy` (`run --config
//     examples/laptop-wifi-lte`), or `mptcpd` (Debian's mptcpd, addr_adv plugin,
//     addr-flags subflow,backup, limits subflows 2);
//  3. the client connects to the server's Wi-Fi address on port 443 and writes 800 KB/s
//     in 4 KB chunks; after WARMUP_MS the fault hits the Wi-Fi link (test/lab/faults.ts),
//     lasts FAULT_MS (flapping FLAP_FAULT_MS), recovers, and the run goes on OBSERVE_MS;
//  4. gap: the longest time without delivered data from GAP_LEAD_MS before the fault
//     to the end; failback: from recovery to the first 100 ms in which most of the
//     bytes the server received came over Wi-Fi (its /proc/PID/net/dev counters).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { injectFault, monotonicMs, type FaultKind } from "../../test/lab/faults.js";
import { Lab } from "../../test/lab/topology.js";

export const MANAGERS = ["kernel", "mptcp-policy", "mptcpd"] as const;
export type Manager = (typeof MANAGERS)[number];

const WARMUP_MS = 1500;
const FAULT_MS = 4000;
const FLAP_FAULT_MS = 6000;
const OBSERVE_MS = 4000;
const GAP_LEAD_MS = 500;
const FAILBACK_WINDOW_MS = 100;
const PORT = 443;
const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
const MPTCPD = "/usr/libexec/mptcpd";
const MPTCPD_PLUGINS = "/usr/lib/x86_64-linux-gnu/mptcpd";

export interface TrialResult {
  readonly gapMs: number;
  /** undefined: traffic never came back to Wi-Fi within OBSERVE_MS. */
  readonly failbackMs: number | undefined;
}

export interface Summary {
  readonly p50: number | null;
  readonly p95: number | null;
  readonly max: number | null;
}

export interface FaultRow {
  readonly fault: FaultKind;
  readonly manager: Manager;
  readonly trials: number;
  readonly gap_ms: Summary;
  readonly failback_ms: Summary;
  /** Trials in which traffic did not come back to Wi-Fi within the observation time. */
  readonly no_failback: number;
}

export interface RunOptions {
  readonly root: string;
  /** The policy `mptcp-policy run` enforces (default examples/laptop-wifi-lte/, as shipped). */
  readonly policy?: string;
  readonly trials: number;
  readonly faults: readonly FaultKind[];
  readonly managers: readonly Manager[];
  readonly log: (line: string) => void;
}

/** A child speaking JSON lines. */
class LineChild {
  readonly lines: Record<string, unknown>[] = [];
  private waiters: { match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
  stderr = "";
  readonly exited: Promise<void>;

  constructor(readonly child: ChildProcess, readonly what: string) {
    createInterface({ input: child.stdout! }).on("line", (text) => {
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return;
      }
      this.lines.push(line);
      this.waiters = this.waiters.filter((w) => (w.match(line) ? (w.resolve(line), false) : true));
    });
    child.stderr?.on("data", (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    this.exited = new Promise((resolve) => child.on("exit", () => resolve()));
  }

  wait(match: (l: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>> {
    const found = this.lines.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.what}: timed out (${this.stderr.trim().slice(-300)})`)), timeoutMs);
      this.waiters.push({ match, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  }

  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 3000);
    await this.exited;
    clearTimeout(timer);
  }
}

function inNs(ns: string, command: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  // `ip netns exec` execs the command: the child's PID is the program's.
  return spawn("ip", ["netns", "exec", ns, ...command], { stdio: ["pipe", "pipe", "pipe"], env });
}

function ip(ns: string, ...args: string[]): string {
  const r = spawnSync("ip", ["-n", ns, ...args], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ip -n ${ns} ${args.join(" ")}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Received bytes per interface of the namespace `pid` lives in. */
function rxBytes(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of readFileSync(`/proc/${pid}/net/dev`, "utf8").split("\n").slice(2)) {
    const [name, rest] = line.split(":");
    if (!rest) continue;
    out.set(name!.trim(), Number(rest.trim().split(/\s+/)[0]));
  }
  return out;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = monotonicMs() + timeoutMs;
  while (!check()) {
    if (monotonicMs() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** Start a manager in the client namespace and wait until it is ready. */
async function startManager(manager: Manager, lab: Lab, root: string, scratch: string, policy: string): Promise<LineChild | undefined> {
  const client = lab.client;
  if (manager === "kernel") {
    ip(client, "mptcp", "limits", "set", "subflows", "2", "add_addr_accepted", "0");
    ip(client, "mptcp", "endpoint", "add", lab.address("client", "lte"), "dev", lab.ifname("client", "lte"), "subflow", "backup");
    return undefined;
  }
  if (manager === "mptcpd") {
    ip(client, "mptcp", "limits", "set", "subflows", "2", "add_addr_accepted", "0");
    const daemon = new LineChild(
      inNs(client, [MPTCPD, `--plugin-dir=${MPTCPD_PLUGINS}`, "--path-manager=addr_adv", "--load-plugins=addr_adv", "--addr-flags=subflow,backup", "--notify-flags=existing,skip_link_local,skip_loopback", "--log=stderr"]),
      "mptcpd",
    );
    // Ready once it has made the endpoint of the LTE address.
    await until(() => ip(client, "mptcp", "endpoint", "show").includes(lab.address("client", "lte")), 10_000, "mptcpd's endpoints");
    return daemon;
  }
  const daemon = new LineChild(
    inNs(client, [process.execPath, join(root, "bin/mptcp-policy"), "run", "--config", policy, "--no-watch", "--state-dir", scratch, "--log-level", "info"], { ...process.env, NO_COLOR: "1" }),
    "mptcp-policy run",
  );
  await daemon.wait((l) => l["msg"] === "running", 30_000);
  return daemon;
}

function subflowCount(lab: Lab): number {
  const out = spawnSync("ip", ["netns", "exec", lab.client, "ss", "-MtniH"], { encoding: "utf8" }).stdout;
  return Math.max(0, ...[...out.matchAll(/subflows:(\d+)/g)].map((m) => Number(m[1])));
}

export async function runTrial(manager: Manager, fault: FaultKind, options: RunOptions): Promise<TrialResult> {
  const netem = Lab.netemAvailable();
  const lab = await Lab.create({ clientNames: { wifi: "wlan0", lte: "wwan0" }, ...(netem ? { netem: { wifi: { delayMs: 10 }, lte: { delayMs: 10 } } } : {}) });
  const scratch = mkdtempSync(join(tmpdir(), "mptcp-policy-failover-"));
  const children: LineChild[] = [];
  try {
    ip(lab.server, "mptcp", "limits", "set", "subflows", "8", "add_addr_accepted", "0");
    const peer = join(options.root, "scripts/bench-failover-peer.py");
    const server = new LineChild(inNs(lab.server, [PYTHON, "-u", peer, "server", "--port", String(PORT)]), "server");
    children.push(server);
    await server.wait((l) => l["event"] === "listening", 10_000);
    const daemon = await startManager(manager, lab, options.root, scratch, options.policy ?? join(options.root, "examples/laptop-wifi-lte"));
    if (daemon) children.push(daemon);
    const client = new LineChild(inNs(lab.client, [PYTHON, "-u", peer, "client", "--address", lab.address("server", "wifi"), "--port", String(PORT)]), "client");
    children.push(client);
    await client.wait((l) => l["event"] === "connected", 10_000);
    // The backup subflow over LTE first, where the manager makes one (mptcpd may not).
    await until(() => subflowCount(lab) >= 1, 5_000, "the LTE subflow").catch(() => options.log(`  ${manager}: no second subflow before the fault`));
    await sleep(WARMUP_MS);
    const serverPid = server.child.pid!;
    const samples: { t: number; wifi: number; lte: number }[] = [];
    const sampler = setInterval(() => {
      const rx = rxBytes(serverPid);
      samples.push({ t: monotonicMs(), wifi: rx.get("wifi") ?? 0, lte: rx.get("lte") ?? 0 });
    }, 20);
    const active = await injectFault(lab, "wifi", fault);
    await sleep(fault === "flapping" ? FLAP_FAULT_MS : FAULT_MS);
    const recoveredAt = await active.recover();
    await sleep(OBSERVE_MS);
    clearInterval(sampler);
    const end = monotonicMs();
    server.send("dump");
    const dump = await server.wait((l) => l["event"] === "deliveries", 10_000);
    return { gapMs: longestGap(dump["t"] as number[], active.startedAt - GAP_LEAD_MS, end), failbackMs: failback(samples, recoveredAt) };
  } finally {
    for (const child of children.reverse()) await child.stop(child.what === "server" || child.what === "client" ? "SIGKILL" : "SIGTERM");
    await lab.destroy();
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The longest time in [from, to] with no delivery (the edges count). */
export function longestGap(times: readonly number[], from: number, to: number): number {
  let last = from;
  let longest = 0;
  for (const t of times) {
    if (t < from) continue;
    if (t > to) break;
    longest = Math.max(longest, t - last);
    last = t;
  }
  return Math.round(Math.max(longest, to - last));
}

/** From recovery to the end of the first FAILBACK_WINDOW_MS in which Wi-Fi carried most of the received bytes (so at least that window). */
export function failback(samples: readonly { t: number; wifi: number; lte: number }[], recoveredAt: number): number | undefined {
  for (let i = 0; i < samples.length; i++) {
    const now = samples[i]!;
    if (now.t < recoveredAt + FAILBACK_WINDOW_MS) continue;
    const before = [...samples.slice(0, i)].reverse().find((s) => s.t <= now.t - FAILBACK_WINDOW_MS);
    if (!before || before.t < recoveredAt) continue;
    const wifi = now.wifi - before.wifi;
    const lte = now.lte - before.lte;
    if (wifi > 4096 && wifi > lte) return Math.round(now.t - recoveredAt);
  }
  return undefined;
}

export function summarise(values: readonly (number | undefined)[]): Summary {
  // A trial without failback counts as longer than any measured one.
  const sorted = values.map((v) => v ?? Infinity).sort((a, b) => a - b);
  const at = (q: number) => {
    if (sorted.length === 0) return null;
    const value = sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
    return Number.isFinite(value) ? value : null;
  };
  return { p50: at(0.5), p95: at(0.95), max: at(1) };
}

export async function runAll(options: RunOptions): Promise<FaultRow[]> {
  const rows: FaultRow[] = [];
  for (const fault of options.faults) {
    for (const manager of options.managers) {
      const results: TrialResult[] = [];
      for (let trial = 1; trial <= options.trials; trial++) {
        try {
          const result = await runTrial(manager, fault, options);
          results.push(result);
          options.log(`${fault} ${manager} trial ${trial}: gap ${result.gapMs} ms, failback ${result.failbackMs ?? "none"} ms`);
        } catch (error) {
          options.log(`${fault} ${manager} trial ${trial}: failed: ${(error as Error).message}`);
        }
      }
      rows.push({
        fault,
        manager,
        trials: results.length,
        gap_ms: summarise(results.map((r) => r.gapMs)),
        failback_ms: summarise(results.map((r) => r.failbackMs)),
        no_failback: results.filter((r) => r.failbackMs === undefined).length,
      });
    }
  }
  return rows;
}

