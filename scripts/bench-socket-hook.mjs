#!/usr/bin/env node
// The cost of `mptcp for` on socket() (prints numbers; NOT a test; root): ns per
// socket()+close() of a small C program (named sockbench, so `program "sockbench"`
// selects it) with no socket hook, with the daemon's hook attached and the program not
// selected (a small and a larger selection), selected (its TCP socket becomes MPTCP),
// and from another network namespace than the daemon's; next to the same call asking
// for IPPROTO_MPTCP itself with no hook, the baseline of a selected socket. Medians of
// --rounds rounds of --calls calls each. Needs the hook (Debian 13's 6.12, 7.x).
//
// Usage: node scripts/bench-socket-hook.mjs [--calls 20000] [--rounds 7] [--json FILE]
//        node scripts/bench-socket-hook.mjs --kernel 6.12|7 [...]   (in the kernel lab)
// Wrap it in the shared lock: flock /tmp/mptcp-heavy.lock node scripts/bench-socket-hook.mjs ...
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CLI = join(ROOT, "bin/mptcp-policy");
const { values } = parseArgs({
  options: { calls: { type: "string", default: "20000" }, rounds: { type: "string", default: "7" }, json: { type: "string" }, kernel: { type: "string" } },
});

if (process.getuid?.() !== 0) {
  process.stderr.write("bench-socket-hook: needs root (a network namespace, BPF)\n");
  process.exit(1);
}
if (values.kernel) {
  // The same script in the lab guest; the CLI is built here first (the guest only reads it).
  spawnSync(process.execPath, [join(ROOT, "scripts/build.mjs")], { stdio: "inherit" });
  // The guest writes to the host only through $VM_OUT (scripts/vm.sh): the JSON goes there first.
  const out = values.json ? mkdtempSync(join(tmpdir(), "mpp-bench-socket-out-")) : undefined;
  if (out) chmodSync(out, 0o755);
  const json = out ? ["--json", join(out, "bench.json")] : [];
  const args = ["scripts/vm.sh", "run", values.kernel, "--", process.execPath, "scripts/bench-socket-hook.mjs", "--calls", values.calls, "--rounds", values.rounds, ...json];
  const status = spawnSync("bash", args, { cwd: ROOT, stdio: "inherit", env: { ...process.env, ...(out ? { VM_OUT: out } : {}) } }).status ?? 1;
  if (out) {
    if (existsSync(join(out, "bench.json"))) copyFileSync(join(out, "bench.json"), values.json);
    rmSync(out, { recursive: true, force: true });
  }
  process.exit(status);
}

const SOURCE = String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

/* sockbench tcp|mptcp N: ns per socket(AF_INET, SOCK_STREAM, 0 or IPPROTO_MPTCP) + close(). */
int main(int argc, char **argv)
{
	int proto = argc > 1 && !strcmp(argv[1], "mptcp") ? 262 : 0;
	long n = argc > 2 ? atol(argv[2]) : 10000, i;
	int fd, got = 0;
	socklen_t len = sizeof(got);
	struct timespec a, b;

	fd = socket(AF_INET, SOCK_STREAM, proto);
	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &got, &len)) {
		perror("socket");
		return 1;
	}
	close(fd);
	for (i = 0; i < 1000; i++)
		close(socket(AF_INET, SOCK_STREAM, proto));
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++) {
		fd = socket(AF_INET, SOCK_STREAM, proto);
		if (fd < 0) {
			perror("socket");
			return 1;
		}
		close(fd);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("{\"ns\":%.1f,\"protocol\":%d}\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n, got);
	return 0;
}
`;

const work = mkdtempSync(join(tmpdir(), "mpp-bench-socket-"));
chmodSync(work, 0o755);
const ns = `mpp-bench-${process.pid}`;
let daemon;

function cleanup() {
  daemon?.kill("SIGKILL");
  spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" });
  rmSync(work, { recursive: true, force: true });
}
process.on("exit", cleanup);
process.on("SIGINT", () => process.exit(130));

const bench = join(work, "sockbench");
writeFileSync(join(work, "sockbench.c"), SOURCE);
const gcc = spawnSync("gcc", ["-O2", "-o", bench, join(work, "sockbench.c")], { stdio: "inherit" });
if (gcc.status !== 0) process.exit(1);
spawnSync("ip", ["netns", "add", ns], { stdio: "inherit" });
spawnSync("ip", ["-n", ns, "link", "set", "lo", "up"], { stdio: "inherit" });

function measure(mode, where = "bench") {
  const calls = values.calls;
  const command = where === "bench" ? ["ip", "netns", "exec", ns, bench, mode, calls] : [bench, mode, calls];
  const results = [];
  for (let r = 0; r < Number(values.rounds); r += 1) {
    const out = spawnSync(command[0], command.slice(1), { encoding: "utf8" });
    if (out.status !== 0) throw new Error(`sockbench failed: ${out.stderr}`);
    results.push(JSON.parse(out.stdout));
  }
  const sorted = results.map((r) => r.ns).sort((a, b) => a - b);
  return { ns: sorted[Math.floor(sorted.length / 2)], protocol: results[0].protocol };
}

async function withPolicy(policy, fn) {
  const dir = join(work, "policy");
  rmSync(dir, { recursive: true, force: true });
  spawnSync("mkdir", ["-m", "755", dir]);
  writeFileSync(join(dir, "bench.policy"), policy, { mode: 0o644 });
  daemon = spawn("ip", ["netns", "exec", ns, process.execPath, CLI, "run", "--config", dir, "--state-dir", join(work, "state")], { stdio: ["ignore", "pipe", "pipe"] });
  const lines = createInterface({ input: daemon.stdout });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the daemon did not attach the socket hook in 120 s")), 120_000);
    lines.on("line", (text) => {
      if (text.includes("socket hook attached")) (clearTimeout(timer), resolve());
      if (text.includes("programs are not made MPTCP")) (clearTimeout(timer), reject(new Error(JSON.parse(text).msg)));
    });
  });
  try {
    return fn();
  } finally {
    daemon.kill("SIGTERM");
    await new Promise((resolve) => daemon.on("exit", resolve));
    daemon = undefined;
  }
}

const SMALL = 'mptcp for program "curl"\n';
const LARGE = `mptcp for program "curl" or program "wget" or program "python3*" or program "ssh" or program "git-remote-*" or program "apt*" or program "[a-c]x*" or program "node"\nmptcp for unit "nginx.service" and user 33\nmptcp for cgroup "/system.slice" and family ipv6\n`;
const SELECTED = 'mptcp for program "sockbench"\n';

// Discarded first: a fresh guest (and a cold TLB or translation cache) makes the first
// rounds slower than the rest, which would flatter every case measured after them.
measure("tcp");
measure("mptcp");

const rows = [];
const add = (name, m, baseline) => rows.push({ name, ns: m.ns, protocol: m.protocol === 262 ? "MPTCP" : "TCP", baseline: baseline.name, ratio: m.ns / baseline.ns, added_ns: m.ns - baseline.ns });
const tcp = { name: "no hook, TCP", ...measure("tcp") };
const mptcp = { name: "no hook, IPPROTO_MPTCP asked", ...measure("mptcp") };
rows.push({ name: tcp.name, ns: tcp.ns, protocol: "TCP", baseline: "-", ratio: 1, added_ns: 0 });
rows.push({ name: mptcp.name, ns: mptcp.ns, protocol: "MPTCP", baseline: "-", ratio: 1, added_ns: 0 });
await withPolicy(SMALL, () => add("hook, not selected (1 pattern)", measure("tcp"), tcp));
await withPolicy(LARGE, () => add("hook, not selected (8 patterns, 2 cgroups, a uid)", measure("tcp"), tcp));
await withPolicy(SELECTED, () => {
  add("hook, selected: TCP asked, MPTCP made", measure("tcp"), mptcp);
  add("hook, other network namespace", measure("tcp", "root"), tcp);
});
const after = measure("tcp");
rows.push({ name: "no hook, TCP, again at the end (drift)", ns: after.ns, protocol: "TCP", baseline: tcp.name, ratio: after.ns / tcp.ns, added_ns: after.ns - tcp.ns });

const release = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
console.log(`socket()+close(), ns per call, median of ${values.rounds} rounds of ${values.calls} calls; Linux ${release}${process.env.MPTCP_POLICY_VM ? ` (lab guest ${process.env.MPTCP_POLICY_VM}, qemu TCG: absolute figures are slow, differences and ratios count)` : ""}`);
const width = Math.max(...rows.map((r) => r.name.length));
console.log(`${"case".padEnd(width)}  socket   ns/call  baseline                     ratio  added ns`);
for (const r of rows) console.log(`${r.name.padEnd(width)}  ${r.protocol.padEnd(6)} ${r.ns.toFixed(0).padStart(8)}  ${r.baseline.padEnd(28)} ${r.ratio.toFixed(3).padStart(6)}  ${r.added_ns.toFixed(0).padStart(8)}`);
if (values.json) writeFileSync(values.json, `${JSON.stringify({ release, calls: Number(values.calls), rounds: Number(values.rounds), rows }, null, 2)}\n`);
