// Netlink figures (prints numbers, not a test; run as root):
//  - GET_LIMITS requests per second through our client, one at a time and 64 in
//    flight, next to `ip -batch` doing the same count in one process (best of 3
//    alternating rounds);
//  - endpoint add+delete cycles per second, ours next to `ip -batch`;
//  - MPTCP events decoded per second from recorded kernel bytes (target 200,000/s),
//    and decoded + written as `monitor --format json` lines.
// Everything runs in a network namespace of its own, removed at the end.
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const REQUESTS = Number(process.env["BENCH_REQUESTS"] ?? 10000);
const CYCLES = Number(process.env["BENCH_CYCLES"] ?? 2000);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 3);

if (process.getuid?.() !== 0) {
  console.error("bench-netlink: needs root (it creates a network namespace)");
  process.exit(2);
}

// Bundle the TypeScript client once (the netlink package stays external, as in the CLI).
const dir = mkdtempSync(join(tmpdir(), "bench-netlink-"));
const entry = join(dir, "entry.ts");
writeFileSync(
  entry,
  [
    `export { MptcpPathManager } from ${JSON.stringify(join(root, "runtime/netlink/path-manager.ts"))};`,
    `export { parseMessages } from ${JSON.stringify(join(root, "runtime/netlink/codec.ts"))};`,
    `export { decodeMptcpEvent } from ${JSON.stringify(join(root, "runtime/netlink/mptcp-codec.ts"))};`,
    `export { formatEvent } from ${JSON.stringify(join(root, "runtime/cli/monitor-command.ts"))};`,
  ].join("\n"),
);
const bundle = join(root, "node_modules", ".cache", `bench-netlink-${process.pid}.mjs`);
await build({ entryPoints: [entry], outfile: bundle, bundle: true, platform: "node", format: "esm", external: ["netlink"], logLevel: "warning" });
const { MptcpPathManager, parseMessages, decodeMptcpEvent, formatEvent } = await import(pathToFileURL(bundle).href);

const ns = `bench-netlink-${process.pid}`;
const run = (args, input) => spawnSync(args[0], args.slice(1), { input, encoding: "utf8", maxBuffer: 1 << 28 });
run(["ip", "netns", "add", ns]);
const cleanup = () => {
  run(["ip", "netns", "del", ns]);
  rmSync(dir, { recursive: true, force: true });
  rmSync(bundle, { force: true });
};
process.on("exit", cleanup);

const rate = (count, ms) => Math.round((count * 1000) / ms);
const fmt = (n) => n.toLocaleString("en-US");
const rows = [];
const row = (what, ours, theirs) => rows.push({ what, ours, theirs });

function timeIpBatch(lines) {
  const file = join(dir, "batch.txt");
  writeFileSync(file, `${lines.join("\n")}\n`);
  const start = performance.now();
  const result = run(["ip", "-n", ns, "-batch", file]);
  const ms = performance.now() - start;
  if (result.status !== 0) throw new Error(`ip -batch failed: ${result.stderr}`);
  return ms;
}

try {
  const pm = await MptcpPathManager.open({ netns: ns });
  // warm up
  for (let i = 0; i < 500; i++) await pm.getLimits();

  // The best of ROUNDS rounds, ours and iproute2 alternating, so a busy machine
  // (other jobs, CPU frequency) weighs on both sides alike.
  const best = { sequential: 0, pipelined: 0, ipLimits: 0, cycles: 0, ipCycles: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    let start = performance.now();
    for (let i = 0; i < REQUESTS; i++) await pm.getLimits();
    best.sequential = Math.max(best.sequential, rate(REQUESTS, performance.now() - start));

    start = performance.now();
    for (let done = 0; done < REQUESTS; done += 64) await Promise.all(Array.from({ length: Math.min(64, REQUESTS - done) }, () => pm.getLimits()));
    best.pipelined = Math.max(best.pipelined, rate(REQUESTS, performance.now() - start));

    best.ipLimits = Math.max(best.ipLimits, rate(REQUESTS, timeIpBatch(Array.from({ length: REQUESTS }, () => "mptcp limits show"))));

    start = performance.now();
    for (let i = 0; i < CYCLES; i++) {
      await pm.addEndpoint({ address: "10.99.0.1", id: 1, flags: ["subflow"] });
      await pm.deleteEndpoint(1);
    }
    best.cycles = Math.max(best.cycles, rate(CYCLES, performance.now() - start));
    best.ipCycles = Math.max(
      best.ipCycles,
      rate(CYCLES, timeIpBatch(Array.from({ length: CYCLES }, () => "mptcp endpoint add 10.99.0.1 id 1 subflow\nmptcp endpoint delete id 1"))),
    );
  }
  row(`GET_LIMITS requests/s (${fmt(REQUESTS)}, one at a time)`, best.sequential, best.ipLimits);
  row(`GET_LIMITS requests/s (${fmt(REQUESTS)}, 64 in flight)`, best.pipelined, best.ipLimits);
  row(`endpoint add+delete cycles/s (${fmt(CYCLES)})`, best.cycles, best.ipCycles);
  pm.close();

  // Events from recorded bytes.
  const recorded = JSON.parse(readFileSync(join(root, "test/fixtures/netlink/recorded.json"), "utf8"));
  const datagrams = [...recorded.messages.events_client, ...recorded.messages.events_server].map((hex) => Buffer.from(hex, "hex"));
  const decodeAll = (write) => {
    let count = 0;
    for (const datagram of datagrams)
      for (const message of parseMessages(datagram)) {
        const event = decodeMptcpEvent(message.payload);
        if (write) write(formatEvent({ ...event, time: 1 }, "json"));
        count++;
      }
    return count;
  };
  for (let i = 0; i < 2000; i++) decodeAll();
  const measure = (write) => {
    let events = 0;
    const start = performance.now();
    while (performance.now() - start < 500) events += decodeAll(write);
    return rate(events, performance.now() - start);
  };
  let decoded = 0;
  let decodedJson = 0;
  let bytes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    decoded = Math.max(decoded, measure());
    decodedJson = Math.max(
      decodedJson,
      measure((line) => (bytes += line.length)),
    );
  }

  console.log(`netlink benchmark (Linux ${spawnSync("uname", ["-r"], { encoding: "utf8" }).stdout.trim()}, ${run(["ip", "-V"]).stdout.trim()})`);
  const width = Math.max(...rows.map((r) => r.what.length));
  console.log(`${"".padEnd(width)}   ${"ours".padStart(10)}   ${"ip -batch".padStart(10)}   ratio (target >= 0.5)`);
  for (const r of rows)
    console.log(`${r.what.padEnd(width)}   ${fmt(r.ours).padStart(10)}   ${fmt(r.theirs).padStart(10)}   ${(r.ours / r.theirs).toFixed(2)}x`);
  console.log(`MPTCP events decoded/s from recorded bytes: ${fmt(decoded)} (target 200,000)`);
  console.log(`MPTCP events decoded + written as JSON lines/s: ${fmt(decodedJson)}`);
} finally {
  cleanup();
}
