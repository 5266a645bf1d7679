#!/usr/bin/env node
// The kernel matrix (bash scripts/vm.sh matrix [--json FILE] [NAME...]): boots each
// lab kernel once and runs the live test suites in it; every test is a scenario whose
// result is pass, fail, or unsupported (skipped by test/kernel-support.ts with the
// reason the kernel cannot run it). Prints one table and, per kernel, how long it took.
// Exit status 0 when every scenario passed or is unsupported with a reason.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync, writeFileSync, rmSync, chmodSync, createWriteStream } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The live suites that make sense on every kernel: the daemon, netlink, monitor/status, features, mptcp for, zones. */
export const KERNEL_SUITES = [
  "test/kernel-features.test.ts",
  "test/daemon-events.test.ts",
  "test/daemon.test.ts",
  "test/netlink-client.test.ts",
  "test/monitor-status.test.ts",
  "test/program-selection-lab.test.ts",
  "test/isolate-lab.test.ts",
];

/**
 * Suites that run on one or two kernels only, to keep a whole test run near half an
 * hour of emulation: the failover daemon tests, the lab's faults and the live
 * scheduler tiers with netem on 7 (no released kernel has the scheduler hook; netem
 * gives the tiers real round trips). Not failover
 * on 6.1: it sends no subflow_closed for a join the peer resets, so its retries answer
 * only refusals (docs/runtime.md). They all run on this host too (the vitest suite).
 */
export const EXTRA_SUITES = {
  "7": ["test/live-tiers-lab.test.ts", "test/daemon-failover.test.ts", "test/lab-faults.test.ts"],
};

/**
 * Suites that need systemd as PID 1: one more boot of that kernel with --systemd (a
 * column of its own, "7 systemd"): the example unit (readiness, reload, watchdog) and
 * the Debian package installed, enabled and purged (built on this machine first).
 */
export const SYSTEMD_SUITES = {
  "7": ["test/systemd-unit.test.ts", "test/package-install.test.ts"],
};

const args = process.argv.slice(2);
let jsonFile;
const names = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--json") jsonFile = args[++i];
  else names.push(args[i]);
}

/** Release of a prepared lab kernel, as vm.sh knows it. */
function releaseOf(name) {
  return new Promise((done, fail) => {
    const child = spawn("bash", [join(ROOT, "scripts/vm.sh"), "release", name], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("exit", (code) => (code === 0 ? done(out.trim()) : fail(new Error(`vm.sh release ${name} failed`))));
  });
}

/** The boots of a matrix run: each kernel, plus a systemd boot where it has SYSTEMD_SUITES. */
function plannedRuns(kernelNames) {
  const runs = kernelNames.map((kernel) => ({ name: kernel, kernel, systemd: false, suites: [...KERNEL_SUITES, ...(EXTRA_SUITES[kernel] ?? [])] }));
  for (const kernel of kernelNames)
    if (SYSTEMD_SUITES[kernel]) runs.push({ name: `${kernel} systemd`, kernel, systemd: true, suites: SYSTEMD_SUITES[kernel] });
  // The most suites first, so that the last boot to start is a short one.
  return runs.map((run, column) => ({ ...run, column })).sort((a, b) => b.suites.length - a.suites.length || a.column - b.column);
}

/** One boot: the suites in the guest, their JSON report and the unsupported reasons in VM_OUT. */
async function runKernel({ name, kernel, systemd, suites }) {
  const out = mkdtempSync(join(tmpdir(), `mptcp-policy-matrix-${kernel}-`));
  chmodSync(out, 0o755);
  const logPath = join(out, "guest.log");
  const log = createWriteStream(logPath);
  const started = Date.now();
  const code = await new Promise((done) => {
    const child = spawn(
      "bash",
      [
        join(ROOT, "scripts/vm.sh"), "run", kernel, ...(systemd ? ["--systemd"] : []), "--timeout", process.env.MPTCP_POLICY_MATRIX_TIMEOUT ?? "2400", "--",
        "env", `MPTCP_POLICY_UNSUPPORTED=${join(out, "unsupported.jsonl")}`,
        // Everything runs about ten times slower under emulation: hooks and tests get longer.
        "npx", "vitest", "run", "--reporter=dot", "--reporter=json", `--outputFile.json=${join(out, "vitest.json")}`,
        "--hookTimeout=120000", "--testTimeout=120000",
        // Two files at a time: the guest has two vCPUs (vitest would take one worker for
        // two CPUs) and most of a live test is waiting for the kernel or a peer.
        // Not in the systemd boot: its suites share the system's unit and /etc/mptcp-policy.
        `--maxWorkers=${systemd ? "1" : (process.env.MPTCP_POLICY_GUEST_WORKERS ?? "2")}`,
        // Each worker imports the modules once for all its files: under emulation an
        // isolated file spent about 13 s importing (a quarter of a guest's time). No
        // kernel suite mocks modules; each cleans up its labs and daemons in its hooks.
        // The systemd boot keeps isolation: without it its two suites took 246 s instead of 131.
        ...(systemd || process.env.MPTCP_POLICY_GUEST_ISOLATE === "1" ? [] : ["--no-isolate"]),
        ...suites,
      ],
      { cwd: ROOT, env: { ...process.env, VM_OUT: out }, stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on("exit", (status) => done(status ?? 1));
  });
  log.end();
  const seconds = (Date.now() - started) / 1000;
  const scenarios = readScenarios(out, code);
  const guestLog = readFileSync(logPath, "utf8");
  rmSync(out, { recursive: true, force: true });
  return { name, release: await releaseOf(kernel), seconds, scenarios, guestLog, code };
}

function readScenarios(out, code) {
  const report = join(out, "vitest.json");
  if (!existsSync(report)) return [{ name: "boot and test run", result: "fail", detail: `no test report (vm.sh exited ${code})` }];
  const reasons = new Map();
  const unsupported = join(out, "unsupported.jsonl");
  if (existsSync(unsupported))
    for (const line of readFileSync(unsupported, "utf8").split("\n").filter(Boolean)) {
      const { title, reason } = JSON.parse(line);
      reasons.set(title, reason);
    }
  const { testResults } = JSON.parse(readFileSync(report, "utf8"));
  const scenarios = [];
  for (const file of testResults) {
    const suite = basename(file.name).replace(/\.test\.ts$/, "");
    // Where a guest's time goes: one line per suite (the matrix is most of a CI run).
    process.stderr.write(`matrix: ${suite}: ${((file.endTime - file.startTime) / 1000).toFixed(0)} s, slowest: ${slowest(file.assertionResults)}\n`);
    if (file.assertionResults.length === 0) scenarios.push({ name: suite, result: "fail", detail: (file.message || "no tests ran").slice(0, 300) });
    for (const t of file.assertionResults) {
      const scenario = { name: `${suite}: ${t.fullName}` };
      if (t.status === "passed") scenarios.push({ ...scenario, result: "pass", detail: `${Math.round(t.duration ?? 0)} ms` });
      else if (t.status === "failed") scenarios.push({ ...scenario, result: "fail", detail: firstLine(t.failureMessages?.[0] ?? "failed") });
      else if (reasons.has(t.title)) scenarios.push({ ...scenario, result: "unsupported", detail: reasons.get(t.title) });
      else scenarios.push({ ...scenario, result: "fail", detail: "skipped without a reason" });
    }
  }
  return scenarios;
}

const slowest = (tests) =>
  [...tests].sort((a, b) => (b.duration ?? 0) - (a.duration ?? 0)).slice(0, 3).map((t) => `${t.title} ${((t.duration ?? 0) / 1000).toFixed(1)} s`).join("; ");

const firstLine = (text) => text.split("\n").find((l) => l.trim() !== "")?.trim().slice(0, 300) ?? "";

// The guests run the CLI bundle of this checkout (test/helpers.ts buildCli): built here, once.
await new Promise((done, fail) =>
  spawn(process.execPath, [join(ROOT, "scripts/build.mjs")], { cwd: ROOT, stdio: "inherit" }).on("exit", (code) => (code === 0 ? done() : fail(new Error("build failed")))),
);

// The boots run one after another (MPTCP_POLICY_MATRIX_JOBS at a time, 1 unless told):
// a guest under TCG keeps about one CPU busy, and two of them on this 2-core machine
// made the tests' 10-second waits time out. The systemd boot comes last.
const jobs = Math.max(1, Number(process.env.MPTCP_POLICY_MATRIX_JOBS ?? 1) || 1);
const runs = plannedRuns(names);
// The package the systemd boot installs: built here, where dpkg-deb and lintian are.
if (runs.some((r) => r.systemd))
  await new Promise((done, fail) =>
    spawn("bash", [join(ROOT, "scripts/build-deb.sh")], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] }).on("exit", (code) => (code === 0 ? done() : fail(new Error("build-deb.sh failed")))),
  );
const results = new Array(runs.length);
/** One lane: takes the next of its boots (indexes into runs) until none is left. */
async function worker(queue) {
  while (queue.length > 0) {
    const index = queue.shift();
    const name = runs[index].name;
    process.stderr.write(`matrix: ${name}: booting and running ${runs[index].suites.length} suites\n`);
    const result = await runKernel(runs[index]);
    const count = (r) => result.scenarios.filter((s) => s.result === r).length;
    process.stderr.write(`matrix: ${name} (${result.release}): ${count("pass")} pass, ${count("unsupported")} unsupported, ${count("fail")} fail in ${result.seconds.toFixed(0)} s\n`);
    // vitest's own split of the guest's time (transform, import, tests): emulation makes imports dear.
    const duration = result.guestLog.split("\n").findLast((l) => /Duration .*transform/.test(l));
    if (duration) process.stderr.write(`matrix: ${name}: vitest ${duration.replace(/\x1b\[[0-9;]*m/g, "").trim()}\n`);
    if (count("fail") > 0) process.stderr.write(`matrix: ${name}: the guest's output ends with:\n${result.guestLog.split("\n").slice(-60).join("\n")}\n`);
    results[index] = result;
  }
}
const started = Date.now();
const queue = [...runs.flatMap((r, i) => (r.systemd ? [] : [i])), ...runs.flatMap((r, i) => (r.systemd ? [i] : []))];
await Promise.all(Array.from({ length: Math.min(jobs, queue.length) }, () => worker(queue)));
// The table keeps the kernels' order (6.1, 6.12, 7, then the systemd boot).
const kernels = results.map((result, i) => ({ result, column: runs[i].column })).sort((a, b) => a.column - b.column).map((r) => r.result);
process.stderr.write(`matrix: ${runs.length} boots (${jobs} at a time) in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);

// The table: one row per scenario, one column per kernel.
const all = [...new Set(kernels.flatMap((k) => k.scenarios.map((s) => s.name)))];
const width = Math.min(100, Math.max(8, ...all.map((n) => n.length)));
const cell = (k, name) => k.scenarios.find((s) => s.name === name)?.result ?? "-";
console.log(`${"scenario".padEnd(width)}  ${kernels.map((k) => k.name.padEnd(11)).join(" ")}`);
for (const name of all) console.log(`${name.slice(0, width).padEnd(width)}  ${kernels.map((k) => cell(k, name).padEnd(11)).join(" ")}`);
console.log(`${"time (s)".padEnd(width)}  ${kernels.map((k) => k.seconds.toFixed(0).padEnd(11)).join(" ")}`);
for (const k of kernels)
  for (const s of k.scenarios.filter((s) => s.result !== "pass")) console.log(`${k.name}: ${s.result}: ${s.name}: ${s.detail}`);

if (jsonFile)
  writeFileSync(
    jsonFile,
    `${JSON.stringify({ kernels: kernels.map((k) => ({ name: k.name, release: k.release, seconds: Math.round(k.seconds), scenarios: k.scenarios })) }, null, 2)}\n`,
  );
process.exit(kernels.every((k) => k.scenarios.length > 0 && k.scenarios.every((s) => s.result !== "fail")) ? 0 : 1);
