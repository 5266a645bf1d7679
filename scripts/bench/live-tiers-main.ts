// Entry of the bundled live-tiers benchmark: arguments, the two phases, the figures, the JSON.
import { writeFileSync } from "node:fs";
import { release } from "node:os";
import { parseArgs } from "node:util";
import { measureReaction, measureTierCost } from "./live-tiers-run.js";

const { values } = parseArgs({
  options: {
    root: { type: "string" },
    swaps: { type: "string", default: "6" },
    "steady-seconds": { type: "string", default: "30" },
    connections: { type: "string", default: "1000" },
    json: { type: "string" },
  },
});
const root = String(values.root);
const log = (line: string) => process.stderr.write(`${line}\n`);
const quantile = (sorted: number[], q: number) => (sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
const reaction = await measureReaction(root, Number(values.swaps), Number(values["steady-seconds"]), log);
const sorted = [...reaction.reactions_ms].sort((a, b) => a - b);
const cost = await measureTierCost(root, Number(values.connections));
const report = {
  kernel: release(),
  netem: reaction.netem,
  scheduler_interval_ms: 500,
  reaction_ms: { p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), swaps: Number(values.swaps), followed: sorted.length },
  mp_prio_per_connection_per_minute_steady: reaction.mp_prio_per_minute_steady,
  cpu_us_per_sampled_connection_per_second: cost.cpu_us_per_connection_per_second,
  cost_connections: cost.connections,
};
process.stdout.write(
  `kernel ${report.kernel} (${reaction.netem ? "netem: 10 ms and 150 ms round trips" : "no netem: a token bucket whose queue delays a loaded link"})\n` +
    `reaction to a swap of the links: p50 ${report.reaction_ms.p50} ms, p95 ${report.reaction_ms.p95} ms (${sorted.length} of ${report.reaction_ms.swaps} followed; interval 500 ms, so 2 intervals are 1000 ms)\n` +
    `MP_PRIO changes per connection per minute, steady: ${report.mp_prio_per_connection_per_minute_steady}\n` +
    `tiers' CPU per sampled connection per second: ${report.cpu_us_per_sampled_connection_per_second} µs (${cost.connections} connections; the sampling dump is stale detection's figure)\n`,
);
if (values.json) writeFileSync(String(values.json), `${JSON.stringify(report, null, 2)}\n`);
