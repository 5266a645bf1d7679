#!/usr/bin/env node
// Failover figures (prints numbers; NOT a test; root). A long transfer through each
// fault of the Wi-Fi link (link_down, blackhole, degraded, flapping), N trials each,
// for three path managers side by side: the in-kernel one with a backup endpoint,
// `mptcp-policy run` with examples/laptop-wifi-lte/, and mptcpd 0.12 (addr_adv).
// Per fault and manager: the data gap and the time to fail back, p50/p95/max.
// How a trial goes: scripts/bench/failover-run.ts.
//
// Usage: node scripts/bench-failover.mjs [--kernel NAME] [--trials N] [--json FILE]
//          [--faults link_down,blackhole,...] [--managers kernel,mptcp-policy,mptcpd]
//          [--policy DIR]            the policy for mptcp-policy (default examples/laptop-wifi-lte/;
//                                    its client links are wlan0 and wwan0)
//          [--stale-connections N]   the CPU of stale detection with N open connections
//                                    of two subflows each (default 1000; 0 skips it)
//   --kernel NAME   run inside the kernel lab's guest of that Debian kernel
//                   (scripts/vm.sh kernels lists them; netem there: a 20 ms RTT lab);
//                   without it, on this host's kernel.
import { launch } from "./bench/launch.mjs";

await launch("bench-failover.mjs", "scripts/bench/failover-main.ts", process.argv.slice(2));
