#!/usr/bin/env node
// Figures for the `run` daemon on the real kernel (prints numbers; NOT a test; root),
// with every target of issue #14 and its verdict at the end, and mptcpd 0.12 (C,
// Debian's, sspi plugin) beside our daemon in the same namespace: it receives the
// same events, and its CPU and memory are the floor of a userspace path manager.
// One run, about 10 minutes (--skip-* to leave parts out):
//
//  1. Event→action latency: the time from the kernel's `established` event of a
//     connection to the `subflow_established` event of the subflow a rule created
//     (`on established if iface wifi then create via lte`, daemon, userspace PM), next
//     to the in-kernel path manager doing the same job (an `lte` `subflow` endpoint, no
//     daemon), p50/p99 over --connections connections each, after a warm-up. Two labs
//     run side by side and the connections alternate between them, so load from other
//     jobs weighs on both alike. Targets: p50 within 0.25 ms of the kernel's, p99 within
//     2 ms. The daemon's CPU per connection in this phase (target ≤ 150 µs), over the
//     connections' whole life (opened, then closed at the same pace; the opening alone
//     beside it), is the
//     scheduler's run time of all its threads (ns resolution), mptcpd's beside it.
//  1b. Connections no rule matches (--unmatched, over lte while the rule is on wifi):
//     the daemon's CPU per connection for following the events alone, opened and closed
//     (target ≤ 20 µs),
//     mptcpd's beside it.
//  2. Connection rate: steps of rising rate (--rates, --step-seconds each, 2.5 s quiet
//     in between) against the daemon; a step passes when every connection's
//     `established` event was seen, every one got its subflow via lte, and the daemon
//     logged no overflow and dropped no action (rate limit). The figure is the highest
//     rate that passed (target ≥ 10,000/s); steps go on past a failure of the rules
//     alone, to find the rate at which events start to be lost (or the load
//     generator's limit, which the verdict names). Each step runs first against the
//     in-kernel path manager's lab with the same load: the rate this machine sustains
//     without the daemon, so that a limit of the machine is not taken for the daemon's.
//     The daemon's CPU per connection at the highest passing step is reported beside
//     phase 1's: at 200/s each event is a wakeup of its own, and on this VM a wakeup
//     costs more than the event's work (measured at the start: `wakeup floor`).
//  3. Resident memory (VmRSS) of a fresh daemon in a lab of its own (and of a fresh
//     mptcpd beside it), idle, after opening a first stage (30 %) of --memory-connections
//     idle connections (each with its two subflows) and after all of them, and after they
//     closed. Target: ≤ 1 KB per connection, judged on the larger of (RSS loaded − RSS
//     idle) / MPTCP connections the kernel made and the growth per connection between
//     the stages (memoryPerConnection). With both ends in one kernel, the
//     kernel's MPTCP token table (one bucket per MiB of memory, at most 4 tokens each)
//     turns connections beyond its room into TCP fallbacks: said with the figure.
//  4. `mptcp-policy check` on one example next to `node -e 0` (scripts/bench-check.mjs
//     --startup-only; target ≤ 1.5×) and the playground's keystroke → diagnostics median
//     (scripts/bench-playground.mjs; target ≤ 16 ms).
//
// Each measured phase and memory reading starts on a quiet machine, after the daemon has
// collected the garbage of the phase before (waitForQuiet: the waits are printed).
//
// --json FILE writes every figure (ours and mptcpd's), the verdicts and the phases'
// details, so that a later run can be compared with this one. --daemon-root DIR runs
// the daemon of another checkout (built there first): the "before" of a change.
//
// The timestamps come from an independent listener: a Node process (runtime/netlink's
// EventMonitor, bundled with esbuild) subscribed to the events of the client
// namespaces, stamping each event with performance.now() when it arrives. Netlink
// messages carry no kernel timestamp, so the listener runs at SCHED_FIFO priority
// (chrt): otherwise, on a loaded machine, it reads both events of a connection back to
// back and the latency looks like zero. Connections come from --peers pairs of
// scripts/bench-daemon-peer.py (python3 processes, many MPTCP sockets each, paced on an
// absolute schedule; each sends one byte, as an MPTCP client is fully established only
// once it has sent data; scripts/bench/peer-pool.mjs): one process holds at most its
// RLIMIT_NOFILE of sockets and connects one at a time.
//
// Lab: per measured side two namespaces joined by veth links `wifi` (10.0.1.0/24) and
// `lte` (10.0.2.0/24), as test/lab/topology.ts builds them, named mpbd-<pid>-*, with
// GRO and threaded NAPI on every link (--no-napi-threads: without them the peer's
// whole handshake runs inside the daemon's SUBFLOW_CREATE system call; see napiThreads).
// Everything started here is stopped by PID and the namespaces are deleted at the end
// (and on SIGINT/SIGTERM); namespaces of a killed earlier run are swept at start.
//
// Usage: node scripts/bench-daemon.mjs [--json FILE] [--connections 1000] [--latency-rate 200]
//   [--warmup 2000] [--unmatched 2000] [--rates 1000,2500,5000,10000,15000,20000] [--step-seconds 3]
//   [--memory-connections 100000] [--memory-rate 2000] [--peers 6]
//   [--skip-rate] [--skip-memory] [--skip-mptcpd] [--skip-check] [--skip-playground]
//   [--skip-restart]        skip restarting the daemon with the memory phase's connections open
//   [--daemon-root DIR]     run the daemon of another checkout (a "before" figure)
//   [--no-napi-threads]     veth links as they come (receive work in the sender's system call)
//   [--cpu-prof DIR]        also profile the daemon (node --cpu-prof) and print where its time went
//   [--node-flags "FLAGS"]  diagnostic: more flags for the daemon's node (--single-threaded-gc, say)
//   [--daemon-fifo PRIO]    diagnostic: run the daemon at SCHED_FIFO PRIO (scheduling vs. processing)
import { build } from "esbuild";
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { PeerPool } from "./bench/peer-pool.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const { values: options } = parseArgs({
  options: {
    connections: { type: "string", default: "1000" },
    "latency-rate": { type: "string", default: "200" },
    warmup: { type: "string", default: "2000" },
    rates: { type: "string", default: "1000,2500,5000,10000,15000,20000" },
    "step-seconds": { type: "string", default: "3" },
    "memory-connections": { type: "string", default: "100000" },
    "memory-rate": { type: "string", default: "2000" },
    "skip-memory": { type: "boolean", default: false },
    "skip-rate": { type: "boolean", default: false },
    "skip-restart": { type: "boolean", default: false },
    "cpu-prof": { type: "string" },
    "node-flags": { type: "string", default: "" },
    "daemon-fifo": { type: "string" },
    unmatched: { type: "string", default: "2000" },
    peers: { type: "string", default: "6" },
    "daemon-root": { type: "string" },
    json: { type: "string" },
    "no-napi-threads": { type: "boolean", default: false },
    "skip-mptcpd": { type: "boolean", default: false },
    "skip-check": { type: "boolean", default: false },
    "skip-playground": { type: "boolean", default: false },
  },
});
const CONNECTIONS = Number(options.connections);
const LATENCY_RATE = Number(options["latency-rate"]);
const WARMUP = Number(options.warmup);
const RATES = options.rates.split(",").map(Number);
const STEP_S = Number(options["step-seconds"]);
const MEMORY_CONNECTIONS = Number(options["memory-connections"]);
const MEMORY_RATE = Number(options["memory-rate"]);
const CPU_PROF = options["cpu-prof"];
/** Diagnostic: more flags for the daemon's node (V8's GC and compiler threads, say). */
const NODE_FLAGS = options["node-flags"].split(" ").filter(Boolean);
// 1 ms: at 200 µs the profiler's signals doubled the daemon's CPU per connection
// (1,332 µs against 530 µs unprofiled, 2026-12-06), most of it in the system calls
// they interrupted, and the profile blamed sendmsg for it.
const CPU_PROF_INTERVAL_US = 1000;
/** Diagnostic only: run the daemon at this SCHED_FIFO priority, to tell scheduling delay from processing time. */
const DAEMON_FIFO = options["daemon-fifo"];
const UNMATCHED = Number(options.unmatched);
/** Connections opened and closed by the memory phase's daemon before its idle reading. */
const MEMORY_WARMUP = 2000;
const PEERS = Math.max(1, Number(options.peers));
/** The tree whose daemon runs (bin/mptcp-policy, dist/): another checkout gives a "before" figure. */
const DAEMON_ROOT = options["daemon-root"] ?? ROOT;
const NAPI_THREADS = !options["no-napi-threads"];
const MPTCPD = "/usr/libexec/mptcpd";
const MPTCPD_PLUGINS = "/usr/lib/x86_64-linux-gnu/mptcpd";
const WITH_MPTCPD = !options["skip-mptcpd"] && existsSync(MPTCPD);
// The targets of issue #14: a busy server can use the userspace path manager through us.
const TARGET = {
  cpuCreateUs: 150,
  cpuUnmatchedUs: 20,
  rate: 10_000,
  bytesPerConnection: 1024,
  latencyP50DeltaMs: 0.25,
  latencyP99DeltaMs: 2,
  checkStartupRatio: 1.5,
  playgroundMedianMs: 16,
};

if (process.getuid?.() !== 0) {
  console.error("bench-daemon: needs root (it creates network namespaces and runs the daemon)");
  process.exit(2);
}

const PREFIX = "mpbd";
const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
const PEER = join(ROOT, "scripts", "bench-daemon-peer.py");
const ADDR = { wifi: { client: "10.0.1.1", server: "10.0.1.2" }, lte: { client: "10.0.2.1", server: "10.0.2.2" } };
const work = mkdtempSync(join(tmpdir(), "mptcp-policy-bench-daemon-"));
const listenerBundle = join(ROOT, "node_modules", ".cache", `bench-daemon-listener-${process.pid}.mjs`);
const namespaces = [];
const children = new Set();
const t0 = performance.now();
let listenerRealtime = false;
const say = (text) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${text}\n`);

// ---------------------------------------------------------------------------
// Clean-up: our children by PID, our namespaces by name, our temporary files.

let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  for (const ns of namespaces) spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" });
  rmSync(work, { recursive: true, force: true });
  rmSync(listenerBundle, { force: true });
}
process.on("exit", cleanup);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    cleanup();
    process.kill(process.pid, signal);
  });
}

function run(args, allowFail = false) {
  const result = spawnSync(args[0], args.slice(1), { encoding: "utf8" });
  if (result.status !== 0 && !allowFail) throw new Error(`${args.join(" ")}: ${(result.stderr || result.error?.message || "").trim()}`);
  return result.stdout ?? "";
}

/** Namespaces of an earlier run of this script that was killed outright. */
function sweepStale() {
  for (const line of run(["ip", "netns", "list"]).split("\n")) {
    const match = new RegExp(`^(${PREFIX}-(\\d+)-\\S+)`).exec(line);
    if (!match || Number(match[2]) === process.pid) continue;
    try {
      process.kill(Number(match[2]), 0);
    } catch (error) {
      if (error.code === "ESRCH") run(["ip", "netns", "del", match[1]], true);
    }
  }
}

/** Two namespaces joined by `wifi` and `lte`, as test/lab/topology.ts builds them. */
function makeLab(tag) {
  const lab = { client: `${PREFIX}-${process.pid}-${tag}-client`, server: `${PREFIX}-${process.pid}-${tag}-server` };
  for (const side of ["client", "server"]) {
    run(["ip", "netns", "add", lab[side]]);
    namespaces.push(lab[side]);
    run(["ip", "-n", lab[side], "link", "set", "lo", "up"]);
  }
  for (const link of ["wifi", "lte"]) {
    run(["ip", "-n", lab.client, "link", "add", link, "type", "veth", "peer", "name", link, "netns", lab.server]);
    for (const side of ["client", "server"]) {
      run(["ip", "-n", lab[side], "addr", "add", `${ADDR[link][side]}/24`, "dev", link]);
      run(["ip", "-n", lab[side], "link", "set", link, "up"]);
    }
  }
  if (NAPI_THREADS) for (const side of ["client", "server"]) for (const link of ["wifi", "lte"]) napiThreads(lab[side], link);
  // Room for tens of thousands of connections from one address (and their TIME_WAITs).
  run(["ip", "netns", "exec", lab.client, "sysctl", "-qw", "net.ipv4.ip_local_port_range=1024 65535", "net.ipv4.tcp_tw_reuse=1"]);
  // The server accepts the joins (the kernel's default limits are low).
  run(["ip", "-n", lab.server, "mptcp", "limits", "set", "subflows", "8", "add_addr_accepted", "8"]);
  return lab;
}

/**
 * Receive processing of a veth link in a kernel thread of its own (GRO on, which gives
 * veth a NAPI context, and threaded NAPI), as a real NIC does it in softirq context
 * apart from the sender. Without it the peer's whole handshake runs inside the
 * sender's system call: the SYN of a SUBFLOW_CREATE is answered, the SYN-ACK read
 * and the ACK sent before sendmsg returns, and the daemon is charged for the server's
 * work and its own kernel's. The in-kernel path manager's lab gets the same links.
 */
let napiThreadsOk = NAPI_THREADS;
function napiThreads(ns, link) {
  const gro = spawnSync("ip", ["netns", "exec", ns, "ethtool", "-K", link, "gro", "on"], { encoding: "utf8" });
  const threaded = gro.status === 0 && spawnSync("ip", ["netns", "exec", ns, "sh", "-c", `echo 1 > /sys/class/net/${link}/threaded`]).status === 0;
  if (!threaded && napiThreadsOk) {
    napiThreadsOk = false;
    say(`warning: no threaded NAPI on the veth links (${(gro.stderr || gro.error?.message || "writing /sys/class/net/*/threaded failed").trim()}): the daemon's system time includes the peer's handshakes`);
  }
}

// ---------------------------------------------------------------------------
// Child processes: JSON-line peers, the listener, the daemon.

class LinePeer {
  constructor(child, what) {
    this.child = child;
    this.what = what;
    this.waiters = [];
    this.stderr = "";
    children.add(child);
    createInterface({ input: child.stdout }).on("line", (line) => {
      const message = JSON.parse(line);
      const waiter = this.waiters.shift();
      if (waiter) waiter.resolve(message);
    });
    child.stderr.on("data", (d) => (this.stderr += d));
    child.on("exit", (code) => {
      for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(`${what} exited (${code}): ${this.stderr.trim()}`));
    });
  }

  ask(command) {
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.child.stdin.write(`${JSON.stringify(command)}\n`);
    });
  }

  async quit() {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.stdin.end(`${JSON.stringify({ cmd: "quit" })}\n`);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
}

function startPeer(role) {
  const child = spawn(PYTHON, ["-u", PEER, role, "--nofile", String(Math.max(65536, 2 * MEMORY_CONNECTIONS + 1000))], { stdio: ["pipe", "pipe", "pipe"] });
  return new LinePeer(child, `bench-daemon-peer ${role}`);
}

const LISTENER_SOURCE = `
import { EventMonitor, SockDiag } from ${JSON.stringify(join(ROOT, "runtime/netlink/index.ts"))};
const labs = JSON.parse(process.argv[2]);
const state = {};
function fresh() {
  return { est: new Map(), sub: new Map(), closed: new Set(), overflow: 0, events: 0 };
}
for (const [label, lab] of Object.entries(labs)) {
  state[label] = fresh();
  const monitor = await EventMonitor.start({ netns: lab.ns, interfaces: false });
  monitor.onEvent((e) => {
    const t = performance.now();
    const s = state[label];
    s.events++;
    if (e.event === "established") { if (!s.est.has(e.token)) s.est.set(e.token, t); }
    else if (e.event === "subflow_established") { if (e.saddr === lab.lte && !s.sub.has(e.token)) s.sub.set(e.token, t); }
    else if (e.event === "closed") s.closed.add(e.token);
    else if (e.event === "overflow") s.overflow++;
  });
  monitor.onError((error) => process.send({ error: String(error) }));
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function summary(s, tokens) {
  const latencies = [];
  let missingEst = 0, missingSub = 0;
  for (const token of tokens) {
    const a = s.est.get(token), b = s.sub.get(token);
    if (a === undefined) missingEst++;
    if (b === undefined) missingSub++;
    if (a !== undefined && b !== undefined) latencies.push(b - a);
  }
  return { latencies, missingEst, missingSub, established: s.est.size, subflows: s.sub.size, overflow: s.overflow, events: s.events };
}
process.on("message", async ({ id, cmd, label, tokens, timeoutMs }) => {
  const s = state[label];
  let answer;
  if (cmd === "reset") { state[label] = fresh(); answer = {}; }
  else if (cmd === "subflows") {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline && tokens.some((t) => !s.sub.has(t))) await sleep(20);
    answer = summary(s, tokens);
  } else if (cmd === "closed") {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline && tokens.some((t) => !s.closed.has(t))) await sleep(50);
    answer = { missing: tokens.filter((t) => !s.closed.has(t)).length };
  } else if (cmd === "status") {
    // What the kernel says (sock_diag), subflows grouped by token in one pass.
    const started = performance.now();
    const diag = new SockDiag({ netns: labs[label].ns });
    try {
      const [sockets, subflows] = await Promise.all([diag.mptcpSockets(), diag.subflows()]);
      const byToken = new Map();
      for (const f of subflows) {
        const list = byToken.get(f.token);
        if (list) list.push(f);
        else byToken.set(f.token, [f]);
      }
      const open = sockets.filter((c) => c.state !== "LISTEN" && c.info);
      const of = (c) => byToken.get(c.info.token) ?? [];
      answer = {
        connections: open.length,
        withLteSubflow: open.filter((c) => of(c).some((f) => f.saddr === labs[label].lte)).length,
        twoSubflows: open.filter((c) => of(c).length === 2).length,
        subflows: subflows.length,
        ms: performance.now() - started,
      };
    } finally {
      diag.close();
    }
  } else if (cmd === "exit") process.exit(0);
  process.send({ id, answer });
});
process.send({ ready: true });
`;

async function startListener(labs) {
  const entry = join(work, "listener.ts");
  writeFileSync(entry, LISTENER_SOURCE);
  mkdirSync(join(ROOT, "node_modules", ".cache"), { recursive: true });
  await build({ entryPoints: [entry], outfile: listenerBundle, bundle: true, platform: "node", format: "esm", external: ["netlink"], logLevel: "warning" });
  // SCHED_FIFO: the listener must stamp each event when the kernel queues it, not when a
  // loaded machine gets round to running it (netlink messages carry no timestamp; its
  // receive time is all there is). Without it, on a busy machine both events of a
  // connection are often read back to back and the latency looks like zero.
  const rt = spawnSync("chrt", ["-f", "50", "true"]).status === 0;
  const command = rt ? ["chrt", "-f", "50", process.execPath] : [process.execPath];
  const child = spawn(command[0], [...command.slice(1), listenerBundle, JSON.stringify(labs)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  listenerRealtime = rt;
  children.add(child);
  const pending = new Map();
  let next = 0;
  await new Promise((resolve, reject) => {
    child.on("message", (m) => {
      if (m.ready) resolve();
      else if (m.error) say(`listener error: ${m.error}`);
      else pending.get(m.id)?.(m.answer);
    });
    child.once("exit", (code) => reject(new Error(`the listener exited (${code})`)));
  });
  return {
    child,
    ask(cmd, label, extra = {}) {
      const id = ++next;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        child.send({ id, cmd, label, ...extra });
      });
    },
  };
}

/**
 * Bytes of RSS per MPTCP connection the kernel made, two ways: over the whole run (from
 * the idle daemon at start: V8's growth under load is in it, but so is start-up garbage
 * that a collection may return meanwhile, which makes it read low) and between the
 * stages (once the heap has grown: what each further connection costs). Neither alone
 * is an upper bound; the verdict takes the larger.
 */
function memoryPerConnection(M) {
  const whole = ((M.loaded.rss - M.idle.rss) * 1024) / Math.max(1, M.kernel.connections);
  const marginal = ((M.loaded.rss - M.stage.rss) * 1024) / Math.max(1, M.kernel.connections - M.stage.connections);
  return { whole, marginal };
}

/** The node flags bin/mptcp-policy starts `run` with (its `exec node ... "$0"` line for run). */
const LAUNCHER_RUN_FLAGS = ["--max-semi-space-size=1"];

class Daemon {
  constructor(lab, policyDir, logFile) {
    this.logFile = logFile;
    const out = openSync(logFile, "w");
    const profile = CPU_PROF ? ["--cpu-prof", "--cpu-prof-dir", CPU_PROF, "--cpu-prof-interval", String(CPU_PROF_INTERVAL_US)] : [];
    // `ip netns exec`, chrt and the launcher exec, no fork: the child's PID is the daemon's.
    const prefix = DAEMON_FIFO ? ["chrt", "-f", DAEMON_FIFO] : [];
    const cli = join(DAEMON_ROOT, "bin/mptcp-policy");
    // As users start it: the launcher (a shell script) adds its own node flags for `run`;
    // --node-flags (diagnostic) runs node with those instead. Node 20 refuses the
    // profiler's flags in NODE_OPTIONS: with a profile, node runs the launcher's module
    // itself, with the flags the launcher gives `run` (bin/mptcp-policy) unless told others.
    const nodeFlags = NODE_FLAGS.length > 0 ? NODE_FLAGS : profile.length > 0 ? LAUNCHER_RUN_FLAGS : [];
    const command = nodeFlags.length > 0 || profile.length > 0 ? [process.execPath, ...nodeFlags, ...profile, cli] : [cli];
    const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}` };
    this.child = spawn("ip", ["netns", "exec", lab.client, ...prefix, ...command, "run", "--config", policyDir, "--no-watch"], {
      stdio: ["ignore", out, "pipe"],
      env,
    });
    closeSync(out);
    children.add(this.child);
    this.stderr = "";
    this.child.stderr.on("data", (d) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.child.on("exit", (code, signal) => resolve(code ?? signal)));
    this.offset = 0;
  }

  get pid() {
    return this.child.pid;
  }

  /** Parsed log lines since the last call. */
  newLines() {
    const text = readFileSync(this.logFile, "utf8");
    const end = text.lastIndexOf("\n") + 1;
    const chunk = text.slice(this.offset, end);
    this.offset = end;
    return chunk
      .split("\n")
      .filter(Boolean)
      .map((l) => {
        try {
          return JSON.parse(l);
        } catch {
          return { msg: l };
        }
      });
  }

  async waitFor(msg, timeoutMs = 15_000) {
    const deadline = performance.now() + timeoutMs;
    const seen = [];
    while (performance.now() < deadline) {
      for (const line of this.newLines()) {
        seen.push(line);
        if (line.msg === msg) return seen;
      }
      if (this.child.exitCode !== null) {
        await sleep(200); // the rest of its stderr
        break;
      }
      await sleep(50);
    }
    throw new Error(`the daemon did not log '${msg}' (exit ${this.child.exitCode}): ${this.stderr.trim()} ${JSON.stringify(seen.slice(-5))}`);
  }

  /** VmRSS and VmHWM in KiB. */
  memory() {
    const status = readFileSync(`/proc/${this.pid}/status`, "utf8");
    const kib = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
    return { rss: kib("VmRSS"), hwm: kib("VmHWM") };
  }

  async stop() {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/**
 * mptcpd 0.12 (Debian's, C) in the same namespace as our daemon, with its sspi plugin:
 * it subscribes to the same mptcp_pm events and reads every one, and sspi creates no
 * subflow for a new connection (it only opens one per interface on new addresses), so
 * its CPU is the floor of a userspace path manager that follows the events.
 */
class Mptcpd {
  constructor(ns) {
    this.child = spawn("ip", ["netns", "exec", ns, MPTCPD, `--plugin-dir=${MPTCPD_PLUGINS}`, "--path-manager=sspi", "--load-plugins=sspi", "--log=stderr"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    children.add(this.child);
    this.stderr = "";
    this.child.stderr.on("data", (d) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.child.on("exit", (code, signal) => resolve(code ?? signal)));
  }

  get pid() {
    return this.child.pid;
  }

  async ready() {
    const deadline = performance.now() + 10_000;
    while (!this.stderr.includes("initialized")) {
      if (this.child.exitCode !== null || performance.now() > deadline) throw new Error(`mptcpd did not start: ${this.stderr.trim()}`);
      await sleep(50);
    }
  }

  memory() {
    const status = readFileSync(`/proc/${this.pid}/status`, "utf8");
    const kib = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
    return { rss: kib("VmRSS"), hwm: kib("VmHWM") };
  }

  async stop() {
    if (this.child.exitCode !== null) return this.exited;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

// ---------------------------------------------------------------------------
// Measuring helpers.

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const TICK = Number(run(["getconf", "CLK_TCK"]).trim()) || 100;

/** CPU seconds a process has used: user, system (kernel work in its system calls), total. */
function cpuTimes(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const user = Number(fields[11]) / TICK;
  const system = Number(fields[12]) / TICK;
  return { user, system, total: user + system };
}

/**
 * CPU seconds a process has used, to the nanosecond: the scheduler's sum_exec_runtime
 * of each of its threads (/proc/PID/task/TID/sched, in ms). /proc/PID/stat counts clock
 * ticks (10 ms), too coarse for microseconds per connection over a few seconds.
 */
function cpuRuntime(pid) {
  let ms = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const sched = safeRead(`/proc/${pid}/task/${tid}/sched`);
    const match = sched && /^se\.sum_exec_runtime\s*:\s*([\d.]+)/m.exec(sched);
    if (match) ms += Number(match[1]);
  }
  return ms / 1000;
}

/**
 * How many times the main (JavaScript) thread was switched to: its wakeups, each costing
 * a wakeup floor's CPU here whatever it does (nr_switches of /proc/PID/sched).
 */
function mainThreadSwitches(pid) {
  const match = /^nr_switches\s*:\s*(\d+)/m.exec(safeRead(`/proc/${pid}/sched`) ?? "");
  return match ? Number(match[1]) : 0;
}

/** CPU seconds of the main (JavaScript) thread and of the others (V8's and libuv's helpers). */
function threadTimes(pid) {
  const byName = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = safeRead(`/proc/${pid}/task/${tid}/stat`);
    if (!stat) continue;
    const name = tid === String(pid) ? "main thread" : "other threads";
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const entry = (byName[name] ??= { user: 0, system: 0 });
    entry.user += Number(fields[11]) / TICK;
    entry.system += Number(fields[12]) / TICK;
  }
  return byName;
}
function safeRead(path) {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Machine-wide CPU jiffies: busy and total. */
function machineCpu() {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = fields[3] + fields[4];
  return { busy: total - idle, total };
}

/**
 * Wait until the machine is quiet (a second in which less than QUIET_CORES of its cores
 * were busy, at most QUIET_MAX_MS) and, given the daemon's PID, until the daemon has
 * collected the garbage of the phase before. The work a phase leaves behind otherwise
 * lands in the next phase's figures: V8's memory reducer runs a full collection some
 * 8 s after the allocation rate drops (a burst of closes, then quiet), and a run of
 * 2026-12-08 charged 24-47 µs per unmatched connection that `--no-memory-reducer`
 * measured at 1.6 µs, with 0.02 wakeups per connection either way; and the playground
 * was timed at 20 ms while 37,000 connections were still closing. The daemon is
 * watched for up to DAEMON_SETTLE_MS: a burst of its CPU (the collection) and the quiet
 * after it end the wait. Says how long it waited and what the collection cost.
 */
const QUIET_CORES = 0.15;
const QUIET_MAX_MS = 30_000;
const DAEMON_SETTLE_MS = 12_000;
const DAEMON_BURST_S = 0.005;
async function waitForQuiet(before, daemonPid) {
  const started = performance.now();
  let busy = Infinity;
  while (performance.now() - started < QUIET_MAX_MS) {
    const a = machineCpu();
    await sleep(1000);
    const b = machineCpu();
    busy = (b.busy - a.busy) / TICK;
    if (busy < QUIET_CORES) break;
  }
  let collection = 0;
  if (daemonPid !== undefined) {
    const settling = performance.now();
    let burst = false;
    while (performance.now() - settling < DAEMON_SETTLE_MS) {
      const a = safeNumber(() => cpuRuntime(daemonPid));
      await sleep(1000);
      const used = safeNumber(() => cpuRuntime(daemonPid)) - a;
      collection += used;
      if (used >= DAEMON_BURST_S) burst = true;
      else if (burst) break;
    }
  }
  const waited = (performance.now() - started) / 1000;
  const quiet = busy < QUIET_CORES;
  say(
    `quiet before ${before}: ${quiet ? "" : "NOT "}quiet after ${waited.toFixed(1)} s (${busy.toFixed(2)} cores busy in the last second of the machine's wait)` +
      (daemonPid !== undefined ? `; the daemon used ${(collection * 1000).toFixed(1)} ms of CPU meanwhile (the phase before's garbage collected)` : ""),
  );
  return { waited_s: waited, busyCores: busy, quiet, daemonLeftover_s: collection };
}

/** What the machine and our processes did between two snapshots. */
function snapshot(pids) {
  const cpu = {};
  for (const [name, pid] of Object.entries(pids)) {
    const list = (Array.isArray(pid) ? pid : [pid]).filter(Boolean);
    const times = list.map((p) => ({ ...safe(() => cpuTimes(p)), run: safeNumber(() => cpuRuntime(p)), switches: mainThreadSwitches(p) }));
    cpu[name] = times.reduce(
      (a, t) => ({ user: a.user + t.user, system: a.system + t.system, total: a.total + t.total, run: a.run + t.run, switches: a.switches + t.switches }),
      { user: 0, system: 0, total: 0, run: 0, switches: 0 },
    );
  }
  return { at: performance.now(), machine: machineCpu(), cpu };
}
function safeNumber(f) {
  try {
    return f();
  } catch {
    return 0;
  }
}
function usage(a, b) {
  const wall = (b.at - a.at) / 1000;
  const cores = (b.machine.total - a.machine.total) / TICK / wall;
  const busyCores = (b.machine.busy - a.machine.busy) / TICK / wall;
  const ours = Object.keys(a.cpu).reduce((sum, k) => sum + (b.cpu[k].total - a.cpu[k].total), 0);
  return {
    wall,
    cores,
    busyCores,
    ourCores: ours / wall,
    daemonCpu: b.cpu.daemon.total - a.cpu.daemon.total,
    daemonUser: b.cpu.daemon.user - a.cpu.daemon.user,
    daemonSystem: b.cpu.daemon.system - a.cpu.daemon.system,
    // The scheduler's figures (ns resolution): these are the CPU per connection reported.
    daemonRun: b.cpu.daemon.run - a.cpu.daemon.run,
    daemonSwitches: b.cpu.daemon.switches - a.cpu.daemon.switches,
    // No figure once mptcpd has gone (its /proc entries read as 0): the run's end says why.
    mptcpdRun: b.cpu.mptcpd?.run ? b.cpu.mptcpd.run - a.cpu.mptcpd.run : undefined,
    mptcpdCpu: b.cpu.mptcpd ? b.cpu.mptcpd.total - a.cpu.mptcpd.total : undefined,
    listenerCpu: b.cpu.listener.total - a.cpu.listener.total,
  };
}
function safe(f) {
  try {
    return f();
  } catch {
    return { user: 0, system: 0, total: 0 };
  }
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}
function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
    mean,
  };
}
const ms = (x, digits = 3) => (Number.isFinite(x) ? `${x.toFixed(digits)} ms` : "n/a");
const mib = (kib) => `${(kib / 1024).toFixed(1)} MiB`;
const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

/** Daemon log lines that mean an event or an action was lost. */
function logProblems(lines) {
  const overflow = lines.filter((l) => typeof l.msg === "string" && l.msg.includes("events were lost")).length;
  const rateLimited = lines.filter((l) => l.result === "rate-limited").length;
  const others = lines.filter((l) => l.level >= 40 && l.result !== "rate-limited" && !(typeof l.msg === "string" && l.msg.includes("events were lost")));
  const failed = others.length;
  const kinds = [...new Set(others.map((l) => `${l.result ?? ""} ${String(l.msg).slice(0, 90)}`.trim()))].slice(0, 2);
  const done = lines.filter((l) => l.msg === "done" && l.action === "create" && l.result === "ok");
  return { overflow, rateLimited, failed, kinds, done: done.length, daemonLatency: done.map((l) => l.latency_ms) };
}

// ---------------------------------------------------------------------------
// The run.

sweepStale();
const loadStart = loadavg();
say(`load average at start: ${loadStart} (${run(["nproc"]).trim()} cores)`);
// What one sleep and wakeup costs on this machine, in CPU charged to the sleeper (the
// scheduler's own figure): the floor under any daemon's CPU per event when events come
// one at a time. A Node timer (the whole event loop turn) beside a Python sleep loop.
const WAKEUPS = 400;
/** The memory phase opens this share of its connections, measures, then the rest. */
const MEMORY_FIRST_STAGE = 0.3;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
function wakeupFloor() {
  const node = `const {readFileSync}=require("fs");const r=()=>Number(readFileSync("/proc/self/schedstat","utf8").split(" ")[0]);let n=0;const t0=r();const t=setInterval(()=>{if(++n===${WAKEUPS}){clearInterval(t);console.log((r()-t0)/${WAKEUPS}/1000)}},5);`;
  const python = `import time\nr=lambda:int(open("/proc/self/schedstat").read().split()[0])\nt0=r()\nfor i in range(${WAKEUPS}): time.sleep(0.005)\nprint((r()-t0)/${WAKEUPS}/1000)`;
  const figure = (command, args) => Number(spawnSync(command, args, { encoding: "utf8" }).stdout.trim()) || undefined;
  return { nodeUs: figure(process.execPath, ["-e", node]), pythonUs: figure(PYTHON, ["-c", python]) };
}
const wakeup = wakeupFloor();
say(`wakeup floor: a Node timer wakeup ${wakeup.nodeUs?.toFixed(1)} µs of CPU, a Python sleep ${wakeup.pythonUs?.toFixed(1)} µs`);
say(`building dist/ (node scripts/build.mjs)${DAEMON_ROOT !== ROOT ? ` in ${DAEMON_ROOT}` : ""}`);
spawnSync(process.execPath, [join(DAEMON_ROOT, "scripts/build.mjs")], { cwd: DAEMON_ROOT, stdio: "ignore" });
if (CPU_PROF) mkdirSync(CPU_PROF, { recursive: true });

const kernelLab = makeLab("k");
const daemonLab = makeLab("d");
// The memory phase gets a lab and a daemon of its own: no TIME_WAITs and no garbage
// left by the earlier phases.
const memoryLab = options["skip-memory"] ? undefined : makeLab("m");
// In-kernel path manager: an `lte` subflow endpoint, no daemon.
run(["ip", "-n", kernelLab.client, "mptcp", "limits", "set", "subflows", "2", "add_addr_accepted", "0"]);
run(["ip", "-n", kernelLab.client, "mptcp", "endpoint", "add", ADDR.lte.client, "dev", "lte", "subflow"]);

const policyDir = join(work, "policy");
mkdirSync(policyDir, { mode: 0o755 });
writeFileSync(join(policyDir, "bench.policy"), 'interface wifi = "wifi"\ninterface lte = "lte"\non established if iface wifi then create via lte\n', {
  mode: 0o644,
});

const peers = new PeerPool(startPeer, PEERS);
// Each pair of peers uses port + its index (scripts/bench/peer-pool.mjs).
const PORTS = { latency: 5000, rate: 5100, memory: 5200, unmatched: 5300 };
for (const lab of [kernelLab, daemonLab]) for (const port of [PORTS.latency, PORTS.rate]) await peers.listen(lab.server, port);
await peers.listen(daemonLab.server, PORTS.unmatched);
if (memoryLab) await peers.listen(memoryLab.server, PORTS.memory);

const daemon = new Daemon(daemonLab, policyDir, join(work, "daemon.log"));
await daemon.waitFor("running");
const pathManager = run(["ip", "netns", "exec", daemonLab.client, "sysctl", "-n", "net.mptcp.path_manager"]).trim();
if (pathManager !== "userspace") throw new Error(`the daemon did not select the userspace path manager (${pathManager})`);
const listener = await startListener({
  k: { ns: kernelLab.client, lte: ADDR.lte.client },
  d: { ns: daemonLab.client, lte: ADDR.lte.client },
  ...(memoryLab ? { m: { ns: memoryLab.client, lte: ADDR.lte.client } } : {}),
});
// mptcpd beside our daemon, in the same namespace: the same events reach both.
const mptcpd = WITH_MPTCPD ? new Mptcpd(daemonLab.client) : undefined;
await mptcpd?.ready();
const pids = { daemon: daemon.pid, mptcpd: mptcpd?.pid, listener: listener.child.pid, peers: peers.pids, bench: process.pid };
const rssStart = daemon.memory();
say(`daemon PID ${daemon.pid} running (${mib(rssStart.rss)} resident); listener PID ${listener.child.pid}${mptcpd ? `; mptcpd PID ${mptcpd.pid} beside it` : ""}`);

const target = (lab, port) => ({ ns: lab.client, address: ADDR.wifi.server, port });
/** Over lte: the rule (`if iface wifi`) does not match these connections. */
const lteTarget = (lab, port) => ({ ns: lab.client, address: ADDR.lte.server, port });
const tokensOf = (opened, index) => opened.tokens.filter(([i]) => i === index).map(([, t]) => t);

/** Open connections, wait for their subflows, and return what each namespace saw. */
async function openAndMeasure(labels, targets, count, rate, waitMs) {
  for (const label of labels) await listener.ask("reset", label);
  const before = snapshot(pids);
  const opened = await peers.open(targets, count, rate);
  const results = {};
  for (const [index, label] of labels.entries()) results[label] = await listener.ask("subflows", label, { tokens: tokensOf(opened, index), timeoutMs: waitMs });
  const after = snapshot(pids);
  return { opened, results, usage: usage(before, after) };
}

/** Close what `opened` opened; paced at `rate` per second when given (the figures over a connection's whole life). */
async function closeAll(labels, opened, rate) {
  await peers.close(rate);
  for (const [index, label] of labels.entries()) {
    const { missing } = await listener.ask("closed", label, { tokens: tokensOf(opened, index), timeoutMs: 15_000 });
    if (missing > 0) say(`warning: ${missing} connections of ${label} did not report 'closed' within 15 s`);
  }
}

const report = { latency: undefined, unmatched: undefined, steps: [], memory: undefined };

// 1. Latency, daemon and kernel side by side.
{
  const labels = ["k", "d"];
  const targets = [target(kernelLab, PORTS.latency), target(daemonLab, PORTS.latency)];
  say(`latency: warm-up, ${WARMUP} connections`);
  const warm = await openAndMeasure(labels, targets, WARMUP, LATENCY_RATE, 10_000);
  await closeAll(labels, warm.opened);
  const quiet = await waitForQuiet("the latency run", daemon.pid);
  daemon.newLines();
  say(`latency: ${2 * CONNECTIONS} connections alternating kernel/daemon at ${LATENCY_RATE}/s`);
  const lifeStart = snapshot(pids);
  const m = await openAndMeasure(labels, targets, 2 * CONNECTIONS, LATENCY_RATE, 10_000);
  const problems = logProblems(daemon.newLines());
  await closeAll(labels, m.opened, LATENCY_RATE);
  // The connections' whole life, their closes too, paced like the opening (what a busy server pays per connection).
  const life = usage(lifeStart, snapshot(pids));
  report.latency = { ...m, quiet, life, problems, kernel: stats(m.results.k.latencies), daemon: stats(m.results.d.latencies), daemonOwn: stats(problems.daemonLatency) };
  say(`latency: kernel p50 ${ms(report.latency.kernel.p50)}, daemon p50 ${ms(report.latency.daemon.p50)}; the daemon woke ${(m.usage.daemonSwitches / CONNECTIONS).toFixed(2)} times per connection of its own`);
}

// 1b. Connections no rule matches (opened over lte; the rule is on wifi): what following
// the events costs by itself, the figure to hold beside mptcpd's.
if (UNMATCHED > 0) {
  const quiet = await waitForQuiet("the unmatched connections", daemon.pid);
  daemon.newLines();
  say(`unmatched: ${UNMATCHED} connections over lte at ${LATENCY_RATE}/s (no rule fires)`);
  const lifeStart = snapshot(pids);
  const m = await openAndMeasure(["d"], [lteTarget(daemonLab, PORTS.unmatched)], UNMATCHED, LATENCY_RATE, 500);
  const problems = logProblems(daemon.newLines());
  await closeAll(["d"], m.opened, LATENCY_RATE);
  const life = usage(lifeStart, snapshot(pids));
  report.unmatched = { ...m, quiet, life, problems, count: m.opened.opened };
  say(`unmatched: daemon ${((m.usage.daemonRun * 1e6) / m.opened.opened).toFixed(1)} µs and ${(m.usage.daemonSwitches / m.opened.opened).toFixed(2)} wakeups per connection${mptcpd ? `, mptcpd ${((m.usage.mptcpdRun * 1e6) / m.opened.opened).toFixed(1)} µs` : ""}`);
}

// 2. Connection rate. Each step runs first against the in-kernel path manager's lab (its
// `lte` subflow endpoint; no daemon): the same load generator, links and kernel, so it
// shows the rate this machine itself sustains, and where the daemon fails at a rate the
// kernel's own path manager also fails at, the limit is the machine's, not the daemon's.
// Then against the daemon: a step passes when nothing was lost and every rule fired.
// Steps go on past a failure of the rules alone (to find where events start to be lost
// too), and stop at the first step that loses events or that the client cannot drive.
if (!options["skip-rate"]) {
  for (const rate of RATES) {
    const count = Math.round(rate * STEP_S);
    await sleep(2500);
    say(`rate: ${count} connections at ${rate}/s, in-kernel path manager`);
    const k = await openAndMeasure(["k"], [target(kernelLab, PORTS.rate)], count, rate, 5000);
    const kr = k.results.k;
    const kAchieved = k.opened.opened / k.opened.elapsed_s;
    const kReasons = [];
    if (kr.missingEst > 0 || kr.overflow > 0) kReasons.push(`${kr.missingEst} established events not seen${kr.overflow > 0 ? " (the listener overflowed)" : ""}`);
    if (kr.missingSub > 0) kReasons.push(`${kr.missingSub} connections without the lte subflow`);
    if (k.opened.error_count > 0) kReasons.push(`${k.opened.error_count} connects failed (${k.opened.errors[0]})`);
    if (kAchieved < 0.9 * rate) kReasons.push(`the client reached only ${kAchieved.toFixed(0)}/s`);
    await closeAll(["k"], k.opened);
    const kernelStep = { achieved: kAchieved, pass: kReasons.length === 0, reasons: kReasons, latency: stats(kr.latencies), missingSub: kr.missingSub, busyCores: k.usage.busyCores };
    say(`rate ${rate}/s, in-kernel: ${kernelStep.pass ? "pass" : `FAIL: ${kReasons.join("; ")}`}`);

    await sleep(2500); // let the daemon's action buckets refill (as after any quiet time)
    daemon.newLines();
    say(`rate: ${count} connections at ${rate}/s, daemon`);
    const m = await openAndMeasure(["d"], [target(daemonLab, PORTS.rate)], count, rate, 5000);
    await sleep(200);
    const problems = logProblems(daemon.newLines());
    const r = m.results.d;
    const achieved = m.opened.opened / m.opened.elapsed_s;
    const lost = [];
    const missed = [];
    const other = [];
    if (r.missingEst > 0) lost.push(`${r.missingEst} established events not seen by the listener`);
    if (r.overflow > 0) lost.push("the listener's socket overflowed");
    if (problems.overflow > 0) lost.push(`the daemon's event socket overflowed (x${problems.overflow})`);
    if (r.missingSub > 0) missed.push(`${r.missingSub} connections without the lte subflow`);
    if (problems.rateLimited > 0) missed.push(`${problems.rateLimited} actions dropped by the daemon's rate limit`);
    if (problems.failed > 0) missed.push(`${problems.failed} other daemon warnings (${problems.kinds.join(" | ")})`);
    if (m.opened.error_count > 0) other.push(`${m.opened.error_count} connects failed (${m.opened.errors[0]})`);
    if (achieved < 0.9 * rate) other.push(`the client reached only ${achieved.toFixed(0)}/s`);
    const reasons = [...lost, ...missed, ...other];
    const step = {
      rate,
      count,
      achieved,
      pass: reasons.length === 0,
      eventsLost: lost.length > 0,
      reasons,
      latency: stats(r.latencies),
      usage: m.usage,
      problems,
      missingSub: r.missingSub,
      kernel: kernelStep,
    };
    report.steps.push(step);
    await closeAll(["d"], m.opened);
    say(`rate ${rate}/s, daemon: ${step.pass ? "pass" : `FAIL: ${reasons.join("; ")}`}`);
    if (lost.length > 0 || other.length > 0) break;
  }
}

// The first daemon's end: its totals, then SIGTERM (it must restore the path manager).
const first = { pid: daemon.pid, rss: daemon.memory(), cpu: cpuTimes(daemon.pid), threads: threadTimes(daemon.pid) };
first.exitCode = await daemon.stop();
first.restoredPm = run(["ip", "netns", "exec", daemonLab.client, "sysctl", "-n", "net.mptcp.path_manager"]).trim();
const mptcpdGone = mptcpd && mptcpd.child.exitCode !== null ? `mptcpd exited during the run (${mptcpd.child.exitCode}): ${mptcpd.stderr.trim().split("\n").slice(-3).join(" | ")}` : undefined;
const firstMptcpd = mptcpd && !mptcpdGone ? { rss: mptcpd.memory(), cpu: cpuTimes(mptcpd.pid) } : undefined;
// A running mptcpd that used no CPU read no event: its own words say why (the figure beside ours is then missing).
if (mptcpd && !mptcpdGone && report.latency && !(report.latency.usage.mptcpdRun > 0))
  say(`warning: mptcpd (PID ${mptcpd.pid}) used no CPU in the latency run; its log ends: ${mptcpd.stderr.trim().split("\n").slice(-5).join(" | ") || "(empty)"}`);
await mptcpd?.stop();

// 3. Resident memory with many open connections: a fresh daemon in a fresh lab.
if (memoryLab) {
  const pmOf = () => run(["ip", "netns", "exec", memoryLab.client, "sysctl", "-n", "net.mptcp.path_manager"]).trim();
  const second = new Daemon(memoryLab, policyDir, join(work, "daemon-memory.log"));
  await second.waitFor("running");
  const mptcpdM = WITH_MPTCPD ? new Mptcpd(memoryLab.client) : undefined;
  await mptcpdM?.ready();
  pids.daemon = second.pid;
  pids.mptcpd = mptcpdM?.pid;
  // In two stages, with five seconds of idle readings after each: RSS with a third of the
  // connections beside RSS with all shows how much of the figure is V8's one-time growth.
  const idleReadings = async () => {
    const readings = [];
    for (let i = 0; i < 10; i++) {
      readings.push(second.memory().rss);
      await sleep(500);
    }
    return readings;
  };
  // A warm-up (opened and closed) before the idle reading: a fresh daemon's RSS holds
  // start-up garbage that its first collections return, which made the baseline read
  // high (and the figure negative with small semi-spaces).
  const warm = await openAndMeasure(["m"], [target(memoryLab, PORTS.memory)], MEMORY_WARMUP, MEMORY_RATE, 30_000);
  await closeAll(["m"], warm.opened);
  // Each reading is of an idle daemon: after its collection of what the opening left
  // (a run whose readings came before it read 202 MiB at 68,000 connections, 108 in others).
  const quietIdle = await waitForQuiet("the idle reading", second.pid);
  second.newLines();
  const idle = { ...second.memory(), rss: median(await idleReadings()) };
  const mptcpdIdle = mptcpdM?.memory();
  say(`memory: ${MEMORY_CONNECTIONS} connections at ${MEMORY_RATE}/s (fresh daemon PID ${second.pid}, idle at ${mib(idle.rss)} after ${MEMORY_WARMUP} connections opened and closed)`);
  // VmRSS every half second while the connections open: the trend, not one reading.
  const samples = [];
  const sampler = setInterval(() => samples.push(second.memory().rss), 500);
  const firstStage = Math.round(MEMORY_CONNECTIONS * MEMORY_FIRST_STAGE);
  const mA = await openAndMeasure(["m"], [target(memoryLab, PORTS.memory)], firstStage, MEMORY_RATE, 30_000);
  const quietStage = await waitForQuiet("the first stage's reading", second.pid);
  const kernelA = await listener.ask("status", "m");
  const stageSamples = await idleReadings();
  const stage = { connections: kernelA.connections, rss: median(stageSamples) };
  say(`memory: ${kernelA.connections} connections in the kernel after the first stage; daemon at ${mib(stage.rss)}`);
  const m = await openAndMeasure(["m"], [target(memoryLab, PORTS.memory)], MEMORY_CONNECTIONS - firstStage, MEMORY_RATE, 30_000);
  m.opened.opened += mA.opened.opened;
  m.opened.elapsed_s += mA.opened.elapsed_s;
  m.results.m.missingSub += mA.results.m.missingSub;
  const quietLoaded = await waitForQuiet("the loaded reading", second.pid);
  clearInterval(sampler);
  const problems = logProblems(second.newLines());
  const kernel = await listener.ask("status", "m");
  const served = await peers.count();
  // Then idle with every connection open: five seconds of readings.
  const idleSamples = await idleReadings();
  const loaded = { ...second.memory(), rss: median(idleSamples) };
  const mptcpdLoaded = mptcpdM?.memory();
  await mptcpdM?.stop();
  say(`memory: ${kernel.connections} connections in the kernel, ${kernel.twoSubflows} with two subflows; daemon at ${mib(loaded.rss)}`);
  const cpu = cpuTimes(second.pid);
  const exitCode = await second.stop();
  const restoredPm = pmOf();
  // A restart with the connections open: the new daemon resynchronises from sock_diag
  // (as after `kill -9` or an event overflow). How long until it runs, and its memory.
  let restart;
  let last = undefined;
  if (!options["skip-restart"]) {
    say(`memory: restarting the daemon with ${kernel.connections} connections open`);
    const startedAt = performance.now();
    const third = new Daemon(memoryLab, policyDir, join(work, "daemon-restart.log"));
    const lines = await third.waitFor("running", 600_000);
    const ms = performance.now() - startedAt;
    const resynced = lines.find((l) => l.msg === "connections resynchronised");
    await sleep(2000);
    restart = { pid: third.pid, ms, connections: resynced?.connections, rss: third.memory(), cpu: cpuTimes(third.pid) };
    say(`memory: the restarted daemon was running after ${(ms / 1000).toFixed(1)} s (${restart.connections} connections resynchronised)`);
    last = third;
  }
  await closeAll(["m"], m.opened);
  await sleep(1500);
  const afterClose = last ? last.memory() : undefined;
  if (last) {
    restart.exitCode = await last.stop();
    restart.restoredPm = pmOf();
  }
  report.memory = {
    quiet: { idle: quietIdle, stage: quietStage, loaded: quietLoaded },
    idle,
    loaded,
    stage,
    idleSamples,
    afterClose,
    samples,
    kernel,
    served,
    opened: m.opened,
    results: m.results.m,
    problems,
    usage: m.usage,
    cpu,
    exitCode,
    restoredPm,
    restart,
    mptcpd: mptcpdM ? { idle: mptcpdIdle, loaded: mptcpdLoaded } : undefined,
  };
}

listener.child.send({ cmd: "exit" });
await peers.quit();
const loadEnd = loadavg();

// 4. The front end's figures, from their own benchmarks (which print their details).
if (!options["skip-check"] || !options["skip-playground"]) report.frontEndQuiet = await waitForQuiet("check and the playground");
if (!options["skip-check"]) {
  say("check: bench-check.mjs --startup-only");
  report.check = subBenchmark("scripts/bench-check.mjs", ["--startup-only"]);
}
if (!options["skip-playground"]) {
  say("playground: bench-playground.mjs");
  report.playground = subBenchmark("scripts/bench-playground.mjs", []);
}

/** Run another benchmark with --json and read its figures back. */
function subBenchmark(script, args) {
  const file = join(work, `${script.replace(/\W+/g, "-")}.json`);
  const result = spawnSync(process.execPath, [join(ROOT, script), ...args, "--json", file], { encoding: "utf8", timeout: 900_000 });
  if (result.status !== 0 || !existsSync(file)) {
    const why = (result.stderr || result.error?.message || "").trim().split("\n").at(-1);
    return { ok: false, reason: `not measured: ${script} exited ${result.status ?? result.signal}${why ? `: ${why}` : ""}` };
  }
  return { ok: true, ...JSON.parse(readFileSync(file, "utf8")) };
}

// ---------------------------------------------------------------------------
// The figures.

const lines = [];
const out = (s = "") => lines.push(s);
function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(" | ")} |`;
  out(line(headers));
  out(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const r of rows) out(line(r));
}

const L = report.latency;
const delta = L.daemon.p50 - L.kernel.p50;
const delta99 = L.daemon.p99 - L.kernel.p99;
const allSubflows = L.results.d.missingSub === 0 && L.results.k.missingSub === 0;
const latencyPass = delta <= TARGET.latencyP50DeltaMs && allSubflows;
const latency99Pass = delta99 <= TARGET.latencyP99DeltaMs && allSubflows;
/** CPU per connection in µs, from the scheduler's run time (ns resolution). */
const usPer = (seconds, n) => (seconds === undefined || !n ? undefined : (seconds * 1e6) / n);
const us = (x) => (x === undefined ? "n/a" : `${x.toFixed(x < 100 ? 1 : 0)} µs`);
const cpuCreate = usPer(L.usage.daemonRun, CONNECTIONS);
// The highest rate step that passed, with its latency still within 10 ms at p50 (beyond, the machine is saturated and queues).
const atLoad = report.steps.filter((x) => x.pass && x.latency.p50 < 10).at(-1);
const cpuAtLoad = atLoad ? usPer(atLoad.usage.daemonRun, atLoad.count) : undefined;
const cpuCreateMptcpd = usPer(L.usage.mptcpdRun, CONNECTIONS);
const U = report.unmatched;
const cpuUnmatched = U ? usPer(U.usage.daemonRun, U.count) : undefined;
const cpuUnmatchedMptcpd = U ? usPer(U.usage.mptcpdRun, U.count) : undefined;
// Open and close: the verdicts' figures (the opening alone is beside them).
const cpuCreateLife = usPer(L.life.daemonRun, CONNECTIONS);
const cpuCreateLifeMptcpd = usPer(L.life.mptcpdRun, CONNECTIONS);
const cpuUnmatchedLife = U ? usPer(U.life.daemonRun, U.count) : undefined;
const cpuUnmatchedLifeMptcpd = U ? usPer(U.life.mptcpdRun, U.count) : undefined;
const ratio = (a, b) => (a === undefined || b === undefined || b === 0 ? "" : ` (${(a / b).toFixed(1)}× mptcpd)`);
const firstFailIndex = report.steps.findIndex((s) => !s.pass);
const firstFail = report.steps[firstFailIndex];
const best = (firstFailIndex < 0 ? report.steps : report.steps.slice(0, firstFailIndex)).at(-1);
const firstLossIndex = report.steps.findIndex((s) => s.eventsLost);
const noLoss = (firstLossIndex < 0 ? report.steps : report.steps.slice(0, firstLossIndex)).at(-1);

out("");
out(`mptcp-policy daemon benchmark — Linux ${run(["uname", "-r"]).trim()}, Node ${process.version}, ${run(["nproc"]).trim()} cores`);
out(
  `machine load: load average ${loadStart} at the start, ${loadEnd} at the end; during the latency run ${L.usage.busyCores.toFixed(2)} of ${L.usage.cores.toFixed(2)} cores were busy, ${L.usage.ourCores.toFixed(2)} of them with this benchmark's processes (the rest: other jobs and softirq work)`,
);
out(
  `wakeup floor: one sleep and wakeup costs ${wakeup.nodeUs?.toFixed(1)} µs of CPU for a Node timer, ${wakeup.pythonUs?.toFixed(1)} µs for a Python sleep (${WAKEUPS} each, 5 ms apart): at 200 connections/s each event of a connection is a wakeup of its own`,
);
if (DAEMON_FIFO) out(`DIAGNOSTIC RUN: the daemon ran at SCHED_FIFO priority ${DAEMON_FIFO} (--daemon-fifo), not as deployed`);
out(
  `event listener: a separate Node process (EventMonitor, netns option) ${listenerRealtime ? "at SCHED_FIFO priority 50" : "at normal priority (chrt failed: figures may be compressed on a loaded machine)"}, stamping events with performance.now() on arrival`,
);
out("");
out(`1. Event→action latency: established → subflow_established via lte, ${CONNECTIONS} connections each, alternating, ${LATENCY_RATE}/s in all`);
const latencyRow = (label, stats, missing) => [label, stats.n, ms(stats.p50), ms(stats.p90), ms(stats.p99), ms(stats.max), ms(stats.mean), missing];
table(
  ["path manager", "n", "p50", "p90", "p99", "max", "mean", "missing subflows"],
  [
    latencyRow("in-kernel (lte subflow endpoint)", L.kernel, L.results.k.missingSub),
    latencyRow("daemon (userspace PM, rule)", L.daemon, L.results.d.missingSub),
    latencyRow("daemon's own log: event → SUBFLOW_CREATE acked", L.daemonOwn, "-"),
  ],
);
out(`   (the daemon's own figure has a resolution of 1 ms: it uses Date.now())`);
out(
  `   CPU per connection (scheduler run time, all threads): daemon ${us(cpuCreate)}${mptcpd ? `, mptcpd ${us(cpuCreateMptcpd)} beside it (same events; sspi creates no subflow)${ratio(cpuCreate, cpuCreateMptcpd)}` : ""}`,
);
const perConn = (seconds, n) => `${((seconds * 1e6) / n).toFixed(0)} µs`;
out(
  `   daemon CPU in this phase, per connection: ${perConn(L.usage.daemonCpu, CONNECTIONS)} = ${perConn(L.usage.daemonUser, CONNECTIONS)} user (JavaScript) + ${perConn(L.usage.daemonSystem, CONNECTIONS)} system`,
);
out(`   (system time includes the kernel's own work for SUBFLOW_CREATE: on veth the subflow's handshake runs inside that`);
const listenerEvents = L.results.k.events + L.results.d.events;
out(`   sendmsg call; under the in-kernel path manager the same work runs in a kworker and is not counted anywhere here)`);
out(
  `   the listener used ${perConn(L.usage.listenerCpu, listenerEvents)} of CPU per event (${listenerEvents} events): at real-time priority it can take that much CPU from the daemon or the kworker when they share a core`,
);
out(
  `   links: ${napiThreadsOk ? "veth with threaded NAPI (each link's receive side in a kernel thread, as a NIC's softirq: the peer's handshake is not charged to the sender)" : "veth, receive processing in the sender's system call (the daemon's system time includes the peer's handshakes)"}`,
);
out("");
if (U) {
  out(`1b. Connections no rule matches: ${U.count} over lte at ${LATENCY_RATE}/s (the rule is on wifi)`);
  out(
    `   CPU per connection: daemon ${us(cpuUnmatched)} (${perConn(U.usage.daemonUser, U.count)} user + ${perConn(U.usage.daemonSystem, U.count)} system by clock ticks)${mptcpd ? `, mptcpd ${us(cpuUnmatchedMptcpd)}${ratio(cpuUnmatched, cpuUnmatchedMptcpd)}` : ""}; daemon actions: ${U.problems.done} (expected 0)`,
  );
  out("");
}
if (report.steps.length) {
  out(`2. Connection rate against the daemon (${STEP_S} s per step, 2.5 s quiet between steps)`);
  table(
    ["target rate", "in-kernel PM: reached, subflows, p50", "reached", "connections", "p50", "p99", "daemon CPU/conn (user+sys)", "mptcpd CPU/conn", "busy cores (ours)", "events lost", "rules fired", "verdict"],
    report.steps.map((s) => [
      `${s.rate}/s`,
      `${s.kernel.achieved.toFixed(0)}/s, ${s.count - s.kernel.missingSub}/${s.count}, ${ms(s.kernel.latency.p50)}${s.kernel.pass ? "" : ` (FAIL: ${s.kernel.reasons.join("; ")})`}`,
      `${s.achieved.toFixed(0)}/s`,
      s.count,
      ms(s.latency.p50),
      ms(s.latency.p99),
      `${us(usPer(s.usage.daemonRun, s.count))} (${perConn(s.usage.daemonUser, s.count)}+${perConn(s.usage.daemonSystem, s.count)})`,
      // Seen from 2,000-4,000/s on: mptcpd stays up, logs nothing and uses no more CPU.
      usPer(s.usage.mptcpdRun, s.count) < 1 ? "none (mptcpd used no CPU)" : us(usPer(s.usage.mptcpdRun, s.count)),
      `${s.usage.busyCores.toFixed(2)} (${s.usage.ourCores.toFixed(2)})`,
      s.eventsLost ? "YES" : "no",
      `${s.count - s.missingSub}/${s.count}`,
      s.pass ? "pass" : `FAIL: ${s.reasons.join("; ")}`,
    ]),
  );
  out("");
}
if (report.memory) {
  const M = report.memory;
  out(
    `3. Resident memory of a fresh daemon (own lab) with ${MEMORY_CONNECTIONS} open idle connections, opened at ${MEMORY_RATE}/s (reached ${(M.opened.opened / M.opened.elapsed_s).toFixed(0)}/s), each with its lte subflow`,
  );
  const sorted = [...M.samples].sort((a, b) => a - b);
  const rows3 = [
    [`idle, after ${MEMORY_WARMUP} connections opened and closed (median of 5 s)`, mib(M.idle.rss), mib(M.idle.hwm), "", ""],
    [`while opening (every 0.5 s)`, `${mib(sorted[0])} .. ${mib(sorted.at(-1))}, median ${mib(percentile(sorted, 50))}`, "", "", ""],
    [`first stage, ${Math.round(MEMORY_CONNECTIONS * MEMORY_FIRST_STAGE)} opened, idle (median of 5 s)`, mib(M.stage.rss), "", `${M.stage.connections}`, ""],
    [
      `${MEMORY_CONNECTIONS} opened, idle (median of 5 s)`,
      `${mib(M.loaded.rss)} (${mib(Math.min(...M.idleSamples))} .. ${mib(Math.max(...M.idleSamples))})`,
      mib(M.loaded.hwm),
      `${M.kernel.connections} / ${M.kernel.twoSubflows}`,
      M.served.open,
    ],
  ];
  if (M.restart) {
    rows3.push([`restarted daemon, ${M.restart.connections} connections resynchronised`, mib(M.restart.rss.rss), mib(M.restart.rss.hwm), "", ""]);
    if (M.afterClose) rows3.push(["restarted daemon, after they closed", mib(M.afterClose.rss), mib(M.afterClose.hwm), "", ""]);
  }
  table(["when", "VmRSS", "VmHWM", "kernel: connections / with 2 subflows", "server: open"], rows3);
  out(
    `   per connection: ${memoryPerConnection(M).whole.toFixed(0)} bytes ((idle at the end − idle at start) / MPTCP connections the kernel made; V8's one-time growth under load is in it, and the garbage of the start is not: it can be returned meanwhile) and ${memoryPerConnection(M).marginal.toFixed(0)} bytes (between the two stages: what each further connection cost once the heap had grown); the verdict takes the larger`,
  );
  if (M.kernel.connections < MEMORY_CONNECTIONS)
    out(
      `   the kernel made ${M.kernel.connections} MPTCP connections of ${MEMORY_CONNECTIONS}: the others fell back to TCP. Both ends run in this one kernel, and its MPTCP token table (one bucket per MiB of memory, at most 4 tokens a bucket, 4 tries: net/mptcp/token.c) refuses new tokens beyond that: the kernel's limit on this machine, not the daemon's`,
    );
  out(
    `   rules fired: ${M.problems.done}/${MEMORY_CONNECTIONS}; rate-limited ${M.problems.rateLimited}; overflow ${M.problems.overflow}; missing subflows ${M.results.missingSub}; sock_diag check took ${(M.kernel.ms / 1000).toFixed(1)} s; peer processes' fd limit ${M.served.nofile}`,
  );
  out(
    `   daemon CPU while opening: ${perConn(M.usage.daemonCpu, MEMORY_CONNECTIONS)} per connection (${perConn(M.usage.daemonUser, MEMORY_CONNECTIONS)} user)`,
  );
  if (M.restart)
    out(
      `   restart with ${M.restart.connections} connections open: 'running' after ${(M.restart.ms / 1000).toFixed(1)} s, ${M.restart.cpu.user.toFixed(1)} s user CPU (resynchronisation from sock_diag, as after kill -9 or an overflow)`,
    );
  out("");
}
out("Targets and verdicts (issue #14)");
const verdict = (pass) => (pass === undefined ? "not measured" : pass ? "PASS" : "FAIL");
const rows = [
  [
    "daemon CPU per connection, rule creating one subflow (open and close)",
    `${us(cpuCreateLife)}${mptcpd ? `; mptcpd ${us(cpuCreateLifeMptcpd)}${ratio(cpuCreateLife, cpuCreateLifeMptcpd)}` : ""} (opening alone ${us(cpuCreate)})`,
    `≤ ${TARGET.cpuCreateUs} µs`,
    verdict(cpuCreateLife === undefined ? undefined : cpuCreateLife <= TARGET.cpuCreateUs && L.results.d.missingSub === 0),
  ],
  [
    "daemon CPU per connection at load, rule creating one subflow",
    atLoad ? `${us(cpuAtLoad)} at ${atLoad.rate}/s${atLoad.usage.mptcpdRun !== undefined ? `; mptcpd ${us(usPer(atLoad.usage.mptcpdRun, atLoad.count))}${ratio(cpuAtLoad, usPer(atLoad.usage.mptcpdRun, atLoad.count))}` : ""}` : "no rate step passed",
    `≤ ${TARGET.cpuCreateUs} µs`,
    atLoad ? verdict(cpuAtLoad <= TARGET.cpuCreateUs) : "not measured",
  ],
  [
    "daemon CPU per connection, no rule matches (open and close)",
    U ? `${us(cpuUnmatchedLife)}${mptcpd ? `; mptcpd ${us(cpuUnmatchedLifeMptcpd)}${ratio(cpuUnmatchedLife, cpuUnmatchedLifeMptcpd)}` : ""} (opening alone ${us(cpuUnmatched)})` : "skipped (--unmatched 0)",
    `≤ ${TARGET.cpuUnmatchedUs} µs`,
    verdict(cpuUnmatchedLife === undefined ? undefined : cpuUnmatchedLife <= TARGET.cpuUnmatchedUs),
  ],
  ["latency p50: daemon − kernel", `${ms(L.daemon.p50)} − ${ms(L.kernel.p50)} = ${ms(delta)}`, `≤ ${TARGET.latencyP50DeltaMs} ms`, verdict(latencyPass)],
  ["latency p99: daemon − kernel", `${ms(L.daemon.p99)} − ${ms(L.kernel.p99)} = ${ms(delta99)}`, `≤ ${TARGET.latencyP99DeltaMs} ms`, verdict(latency99Pass)],
];
if (report.steps.length) {
  const clientLimited = firstFail?.reasons.some((r) => r.includes("client reached"));
  // The kernel's own path manager on the same machine and load, at the first rate it failed.
  const kernelFail = report.steps.find((x) => !x.kernel.pass);
  const kernelBest = report.steps.filter((x) => x.kernel.pass).at(-1);
  const machineLimit = kernelFail
    ? `the in-kernel path manager, same lab and load, also fails at ${kernelFail.rate}/s (${kernelFail.kernel.reasons.join("; ")}): this machine's limit${kernelBest ? ` is between ${kernelBest.rate}/s and ${kernelFail.rate}/s` : ` is below ${kernelFail.rate}/s`}`
    : firstFail
      ? `the in-kernel path manager passed every step up to ${report.steps.at(-1).rate}/s: the limit is the daemon's`
      : undefined;
  rows.push([
    "new connections per second: nothing lost, every rule carried out",
    best ? `${best.rate}/s (${best.count} in ${STEP_S} s, reached ${best.achieved.toFixed(0)}/s)` : "none passed",
    `≥ ${TARGET.rate}/s`,
    best && best.rate >= TARGET.rate
      ? "PASS"
      : `FAIL${firstFail ? ` at ${firstFail.rate}/s: ${firstFail.reasons.join("; ")}${clientLimited ? " (the load generator's limit, not the daemon's)" : ""}` : ""}${machineLimit ? `; ${machineLimit}` : ""}`,
  ]);
  rows.push([
    "connection rate: no event lost (rules aside)",
    noLoss ? `${noLoss.rate}/s` : "none",
    "reported",
    firstLossIndex >= 0
      ? `events lost at ${report.steps[firstLossIndex].rate}/s`
      : `none lost up to ${report.steps.at(-1).rate}/s${report.steps.at(-1).reasons.some((r) => r.includes("client reached")) ? " (the client's limit)" : ""}`,
  ]);
}
if (report.memory) {
  const M = report.memory;
  // Every MPTCP connection the kernel made has its rule's subflow (those it could not make are TCP, outside the daemon's reach).
  const complete = M.kernel.twoSubflows === M.kernel.connections && M.kernel.connections > M.stage.connections && M.served.open >= MEMORY_CONNECTIONS;
  const { whole, marginal } = memoryPerConnection(M);
  const perConnection = Math.max(whole, marginal);
  const mptcpdPer = M.mptcpd ? ((M.mptcpd.loaded.rss - M.mptcpd.idle.rss) * 1024) / MEMORY_CONNECTIONS : undefined;
  rows.push([
    "daemon memory per open connection",
    `${perConnection.toFixed(0)} bytes (the larger of ${whole.toFixed(0)} over the whole run and ${marginal.toFixed(0)} between the stages)${mptcpdPer !== undefined ? `; mptcpd ${mptcpdPer.toFixed(0)} bytes` : ""}`,
    `≤ ${TARGET.bytesPerConnection} bytes`,
    !complete ? `INCOMPLETE: ${M.kernel.connections} open, ${M.kernel.twoSubflows} with 2 subflows` : perConnection <= 0 ? "not measured (RSS fell while connections opened: too few for the collector's noise)" : verdict(perConnection <= TARGET.bytesPerConnection),
  ]);
  rows.push([
    `daemon VmRSS at ${MEMORY_CONNECTIONS} open connections (idle)`,
    `${mib(M.loaded.rss)} with ${M.kernel.connections} MPTCP of them (idle at start ${mib(M.idle.rss)}, peak while opening ${mib(M.loaded.hwm)})${M.mptcpd ? `; mptcpd ${mib(M.mptcpd.loaded.rss)}` : ""}`,
    "reported",
    complete
      ? `measured (${M.kernel.connections} MPTCP, all with 2 subflows${M.kernel.connections < MEMORY_CONNECTIONS ? `; the kernel's token table refused the other ${MEMORY_CONNECTIONS - M.kernel.connections}` : ""})`
      : `INCOMPLETE: ${M.kernel.connections} open, ${M.kernel.twoSubflows} with 2 subflows`,
  ]);
}
const C = report.check;
rows.push([
  "`mptcp-policy check` on one example / `node -e 0`",
  C?.ok ? `${C.checkMs.toFixed(0)} ms / ${C.nodeMs.toFixed(0)} ms = ${C.ratio.toFixed(2)}×` : (C?.reason ?? "skipped (--skip-check)"),
  `≤ ${TARGET.checkStartupRatio}×`,
  verdict(C?.ok ? C.ratio <= TARGET.checkStartupRatio : undefined),
]);
const P = report.playground;
rows.push([
  "playground keystroke → diagnostics, median",
  P?.ok ? `${P.medianMs.toFixed(1)} ms (worker's check ${P.workerMs.toFixed(1)} ms)` : (P?.reason ?? "skipped (--skip-playground)"),
  `≤ ${TARGET.playgroundMedianMs} ms`,
  verdict(P?.ok ? P.medianMs <= TARGET.playgroundMedianMs : undefined),
]);
if (report.memory?.restart)
  rows.push([
    `daemon restart with ${report.memory.restart.connections} connections open`,
    `${(report.memory.restart.ms / 1000).toFixed(1)} s to 'running'`,
    "reported",
    "-",
  ]);
const exits = [first, ...(report.memory ? [report.memory] : []), ...(report.memory?.restart ? [report.memory.restart] : [])];
rows.push([
  "daemon exit on SIGTERM / path manager after",
  exits.map((d) => `${d.exitCode} / ${d.restoredPm}`).join("; "),
  "0 / kernel (each daemon)",
  exits.every((d) => d.exitCode === 0 && d.restoredPm === "kernel") ? "ok" : "WRONG",
]);
table(["measure", "figure", "target", "verdict"], rows);
if (mptcpdGone) out(mptcpdGone);
out(
  `first daemon (phases 1-2): RSS ${mib(rssStart.rss)} at start, ${mib(first.rss.rss)} at the end (high-water mark ${mib(first.rss.hwm)}); CPU ${first.cpu.user.toFixed(2)} s user + ${first.cpu.system.toFixed(2)} s system`,
);
out(
  `   its CPU by thread: ${Object.entries(first.threads)
    .sort((a, b) => b[1].user + b[1].system - (a[1].user + a[1].system))
    .map(([name, t]) => `${name} ${t.user.toFixed(2)}+${t.system.toFixed(2)} s`)
    .join(", ")}`,
);
out(`total run time ${((performance.now() - t0) / 1000).toFixed(0)} s`);

// With --cpu-prof: where the daemon spent its time, mapped back to the TypeScript sources.
if (CPU_PROF) {
  await sleep(500);
  // Profiles are named CPU.<date>.<time>.<pid>.*: the first daemon's (latency and rate
  // phases) in full, the restarted one's (resynchronisation with many connections) briefly.
  const profileOf = (pid) => readdirSync(CPU_PROF).find((f) => f.endsWith(".cpuprofile") && f.split(".")[3] === String(pid));
  const firstProfile = profileOf(first.pid);
  if (firstProfile) summarizeProfile(join(CPU_PROF, firstProfile), "first daemon, phases 1-2", { self: 20, inclusive: 16, files: 15 });
  const restartProfile = report.memory?.restart ? profileOf(report.memory.restart.pid) : undefined;
  if (restartProfile)
    summarizeProfile(join(CPU_PROF, restartProfile), "restarted daemon, resynchronising the open connections", { self: 0, inclusive: 8, files: 0 });
}

function summarizeProfile(file, what, limits) {
  {
    const profile = JSON.parse(readFileSync(file, "utf8"));
    const map = new SourceMap(JSON.parse(readFileSync(join(DAEMON_ROOT, "dist/mptcp-policy.js.map"), "utf8")));
    const selfUs = new Map();
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
    // Each profile node named by its function and its TypeScript source (via the bundle's source map).
    const nameOf = new Map();
    const sourceOf = new Map();
    for (const node of profile.nodes) {
      const f = node.callFrame;
      let where = f.url ? `${f.url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*\//, "")}:${f.lineNumber + 1}` : "";
      let source = f.url.replace(/^.*node_modules\//, "").split("/")[0] || f.functionName;
      if (f.url.endsWith("/mptcp-policy.js")) {
        const entry = map.findEntry(f.lineNumber, f.columnNumber);
        if (entry?.originalSource) {
          const src = entry.originalSource.replace(/^.*?\/(runtime|compiler|language|node_modules)\//, "$1/");
          where = `${src}:${entry.originalLine + 1}`;
          source = src.startsWith("node_modules/") ? src.split("/")[1] : src;
        }
      }
      nameOf.set(node.id, `${f.functionName || "(anonymous)"} ${where}`);
      sourceOf.set(node.id, source);
    }
    const agg = new Map();
    const byFile = new Map();
    let total = 0;
    for (const [id, us] of selfUs) {
      if (byId.get(id).callFrame.functionName === "(idle)") continue;
      total += us;
      agg.set(nameOf.get(id), (agg.get(nameOf.get(id)) ?? 0) + us);
      byFile.set(sourceOf.get(id), (byFile.get(sourceOf.get(id)) ?? 0) + us);
    }
    out("");
    out(`Daemon CPU profile, ${what} (${file}): ${(total / 1000).toFixed(0)} ms on CPU (idle excluded)`);
    if (limits.self > 0) out("Top self time:");
    if (limits.self > 0)
      table(
        ["self", "%", "function (source)"],
        [...agg]
          .sort((a, b) => b[1] - a[1])
          .slice(0, limits.self)
          .map(([k, us]) => [ms(us / 1000, 1), `${((100 * us) / total).toFixed(1)}%`, k]),
      );
    // Inclusive time: what the event path costs, callees included.
    const parent = new Map();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const inclusive = new Map();
    for (const [id, us] of selfUs) {
      if (byId.get(id).callFrame.functionName === "(idle)") continue;
      const seen = new Set();
      for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
        const key = nameOf.get(cur);
        if (key === undefined || seen.has(key)) continue;
        seen.add(key);
        inclusive.set(key, (inclusive.get(key) ?? 0) + us);
      }
    }
    out("Inclusive time (callees included) of the daemon's own functions:");
    table(
      ["total", "%", "function (source)"],
      [...inclusive]
        .filter(([k]) => /(runtime|compiler)\//.test(k))
        .sort((a, b) => b[1] - a[1])
        .slice(0, limits.inclusive)
        .map(([k, us]) => [ms(us / 1000, 1), `${((100 * us) / total).toFixed(1)}%`, k]),
    );
    if (limits.files > 0) out("By source file / package:");
    if (limits.files > 0)
      table(
        ["self", "%", "file"],
        [...byFile]
          .sort((a, b) => b[1] - a[1])
          .slice(0, limits.files)
          .map(([k, us]) => [ms(us / 1000, 1), `${((100 * us) / total).toFixed(1)}%`, k]),
      );
  }
}

console.log(lines.join("\n"));

// --json FILE: every figure, ours and mptcpd's, for a later run to compare with.
if (options.json) {
  const lean = (phase) => phase && { ...phase, opened: phase.opened && { ...phase.opened, tokens: undefined }, results: phase.results && (Array.isArray(phase.results.latencies) ? { ...phase.results, latencies: undefined } : Object.fromEntries(Object.entries(phase.results).map(([k, r]) => [k, { ...r, latencies: undefined }]))) };
  const figures = {
    cpuPerConnectionUs: {
      create: cpuCreate,
      createMptcpd: cpuCreateMptcpd,
      unmatched: cpuUnmatched,
      unmatchedMptcpd: cpuUnmatchedMptcpd,
      // Open and close (the verdicts'); create/unmatched above are the opening alone.
      createLife: cpuCreateLife,
      createLifeMptcpd: cpuCreateLifeMptcpd,
      unmatchedLife: cpuUnmatchedLife,
      unmatchedLifeMptcpd: cpuUnmatchedLifeMptcpd,
      createAtLoad: cpuAtLoad,
      createAtLoadRate: atLoad?.rate,
      createAtLoadMptcpd: atLoad ? usPer(atLoad.usage.mptcpdRun, atLoad.count) : undefined,
    },
    wakeupFloorUs: wakeup,
    latencyMs: { daemon: L.daemon, kernel: L.kernel, daemonOwn: L.daemonOwn, p50Delta: delta, p99Delta: delta99 },
    rate: { best: best?.rate, bestAchieved: best?.achieved, noLoss: noLoss?.rate, firstFail: firstFail && { rate: firstFail.rate, reasons: firstFail.reasons } },
    memory: report.memory && {
      connections: MEMORY_CONNECTIONS,
      rssKiB: report.memory.loaded.rss,
      idleKiB: report.memory.idle.rss,
      hwmKiB: report.memory.loaded.hwm,
      // The verdict's figure (the larger of the two), then each.
      bytesPerConnection: Math.max(memoryPerConnection(report.memory).whole, memoryPerConnection(report.memory).marginal),
      bytesPerConnectionWhole: memoryPerConnection(report.memory).whole,
      bytesPerConnectionBetweenStages: memoryPerConnection(report.memory).marginal,
      stage: report.memory.stage,
      kernelConnections: report.memory.kernel.connections,
      mptcpd: report.memory.mptcpd,
    },
    check: report.check,
    playground: report.playground,
  };
  const document = {
    when: new Date().toISOString(),
    host: { kernel: run(["uname", "-r"]).trim(), node: process.version, cores: Number(run(["nproc"]).trim()), loadStart, loadEnd },
    options: { ...options, napiThreads: napiThreadsOk, daemonRoot: DAEMON_ROOT },
    targets: TARGET,
    figures,
    verdicts: rows.map(([measure, figure, target, result]) => ({ measure, figure, target, verdict: result })),
    phases: { latency: lean(report.latency), unmatched: lean(report.unmatched), steps: report.steps, memory: lean(report.memory) },
    mptcpd: firstMptcpd,
  };
  writeFileSync(options.json, `${JSON.stringify(document, null, 2)}\n`);
  say(`figures written to ${options.json}`);
}
cleanup();
