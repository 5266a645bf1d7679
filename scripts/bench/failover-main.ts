// Entry of the bundled failover benchmark: arguments, the runs, the table, the JSON.
import { writeFileSync } from "node:fs";
import { release } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { FAULT_KINDS, type FaultKind } from "../../test/lab/faults.js";
import { Lab } from "../../test/lab/topology.js";
import { MANAGERS, runAll, type FaultRow, type Manager } from "./failover-run.js";
import { measureStaleCost, type StaleCost } from "./stale-cost.js";

const { values } = parseArgs({
  options: {
    root: { type: "string" },
    trials: { type: "string", default: "3" },
    json: { type: "string" },
    faults: { type: "string", default: FAULT_KINDS.join(",") },
    managers: { type: "string", default: MANAGERS.join(",") },
    "stale-connections": { type: "string", default: "1000" },
    policy: { type: "string" },
  },
});
const pick = <T extends string>(text: string, all: readonly T[], what: string): T[] =>
  text.split(",").map((word) => {
    if (!all.includes(word as T)) throw new Error(`unknown ${what} '${word}': one of ${all.join(", ")}`);
    return word as T;
  });
const faults = pick<FaultKind>(String(values.faults), FAULT_KINDS, "fault");
const managers = pick<Manager>(String(values.managers), MANAGERS, "manager");
const trials = Number(values.trials);
const netem = Lab.netemAvailable();
const log = (line: string) => process.stderr.write(`${line}\n`);
log(`kernel ${release()}: ${trials} trial(s) per fault and manager; ${netem ? "netem: 10 ms each way on both links (20 ms RTT)" : "no netem: links without delay, degradation is loss only"}`);
const rows = await runAll({ root: String(values.root), trials, faults, managers, log, ...(values.policy ? { policy: resolve(values.policy) } : {}) });
const cell = (v: number | null) => (v === null ? "never" : `${v}`);
const lines = [`fault       manager        gap p50/p95/max ms     failback p50/p95/max ms`];
for (const r of rows) {
  lines.push(`${r.fault.padEnd(11)} ${r.manager.padEnd(14)} ${`${cell(r.gap_ms.p50)}/${cell(r.gap_ms.p95)}/${cell(r.gap_ms.max)}`.padEnd(22)} ${cell(r.failback_ms.p50)}/${cell(r.failback_ms.p95)}/${cell(r.failback_ms.max)}${r.no_failback ? ` (${r.no_failback} never)` : ""}`);
}
process.stdout.write(`${lines.join("\n")}\n`);
// Side by side: each manager's gap against the in-kernel path manager's, per fault.
for (const fault of faults) {
  const base = rows.find((r) => r.fault === fault && r.manager === "kernel")?.gap_ms.p50;
  const ours = rows.find((r) => r.fault === fault && r.manager === "mptcp-policy")?.gap_ms.p50;
  if (base && ours) process.stdout.write(`${fault}: mptcp-policy gap p50 is ${(ours / base).toFixed(2)}x the in-kernel path manager's\n`);
}
const staleConnections = Number(values["stale-connections"]);
let staleCost: StaleCost | undefined;
if (staleConnections > 0) {
  staleCost = await measureStaleCost(String(values.root), staleConnections);
  process.stdout.write(`stale detection on ${staleCost.connections} open connections (${staleCost.subflows} subflows): ${staleCost.cpu_ms_per_sample} ms CPU per sample, ${(staleCost.cpu_share_at_100ms * 100).toFixed(1)} % of a core at the default 100 ms interval\n`);
}
if (values.json) {
  const report: { kernel: string; netem: boolean; rtt_ms: number; faults: FaultRow[]; stale_cost?: StaleCost } = { kernel: release(), netem, rtt_ms: netem ? 20 : 0, faults: rows, ...(staleCost ? { stale_cost: staleCost } : {}) };
  writeFileSync(String(values.json), `${JSON.stringify(report, null, 2)}\n`);
}
