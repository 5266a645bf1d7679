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
//          [--stale-connections N]   the CPU of stale detection with N open connections
//                                    of two subflows each (default 1000; 0 skips it)
//   --kernel NAME   run inside the kernel lab's guest of that Debian kernel
//                   (scripts/vm.sh kernels lists them; netem there: a 20 ms RTT lab);
//                   without it, on this host's kernel.
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
const kernelAt = args.indexOf("--kernel");

if (process.getuid?.() !== 0) {
  process.stderr.write("bench-failover: needs root (network namespaces)\n");
  process.exit(1);
}

if (kernelAt >= 0) {
  const name = args[kernelAt + 1];
  const rest = args.filter((_, i) => i !== kernelAt && i !== kernelAt + 1);
  const jsonAt = rest.indexOf("--json");
  const out = mkdtempSync(join(tmpdir(), "mptcp-policy-failover-"));
  chmodSync(out, 0o755);
  const inner = jsonAt >= 0 ? [...rest.slice(0, jsonAt), "--json", join(out, "failover.json"), ...rest.slice(jsonAt + 2)] : rest;
  spawnSync(process.execPath, [join(ROOT, "scripts/build.mjs")], { stdio: "inherit" });
  const run = spawnSync("bash", [join(ROOT, "scripts/vm.sh"), "run", name, "--timeout", "5400", "--", process.execPath, join(ROOT, "scripts/bench-failover.mjs"), ...inner], {
    stdio: "inherit",
    env: { ...process.env, VM_OUT: out },
  });
  if (jsonAt >= 0 && run.status === 0) copyFileSync(join(out, "failover.json"), rest[jsonAt + 1]);
  rmSync(out, { recursive: true, force: true });
  process.exit(run.status ?? 1);
}

// Inside the checkout, so that the bundle finds node_modules (the netlink addon stays outside it).
mkdirSync(join(ROOT, "dist"), { recursive: true });
const scratch = mkdtempSync(join(ROOT, "dist", ".bench-failover-"));
try {
  const bundle = join(scratch, "failover.mjs");
  await build({ entryPoints: [join(ROOT, "scripts/bench/failover-main.ts")], bundle: true, platform: "node", format: "esm", target: "node20", outfile: bundle, logLevel: "error", external: ["netlink"], banner: { js: "import { createRequire as mptcpPolicyCreateRequire } from 'node:module'; const require = mptcpPolicyCreateRequire(import.meta.url);" } });
  process.argv = [process.argv[0], bundle, "--root", ROOT, ...args];
  if (!process.env.MPTCP_POLICY_VM) spawnSync(process.execPath, [join(ROOT, "scripts/build.mjs")], { stdio: "inherit" });
  await import(pathToFileURL(bundle).href);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
