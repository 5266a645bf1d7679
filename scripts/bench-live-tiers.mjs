#!/usr/bin/env node
// Live scheduler tiers (prints numbers; NOT a test; root): how fast the daemon follows a
// change of the links' round trips (p50/p95 over --swaps swaps), how many MP_PRIO
// changes a connection gets per minute when nothing changes, and the tiers' CPU per
// sampled connection per second. How: scripts/bench/live-tiers-run.ts.
//
// Usage: node scripts/bench-live-tiers.mjs [--kernel NAME] [--swaps 6] [--steady-seconds 30]
//          [--connections 1000] [--json FILE]
//   --kernel NAME   inside the kernel lab's guest of that Debian kernel (netem there)
import { launch } from "./bench/launch.mjs";

await launch("bench-live-tiers.mjs", "scripts/bench/live-tiers-main.ts", process.argv.slice(2));
