// How the lab benchmarks start (scripts/bench-failover.mjs, scripts/bench-live-tiers.mjs):
// as root; with `--kernel NAME`, the same script again inside that kernel lab guest
// (scripts/vm.sh run), its --json written through the guest's shared output directory;
// else the TypeScript body bundled with esbuild into the checkout (so that it finds
// node_modules and the netlink addon) and run here, after the CLI is built.
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Run `entry` (a .ts under scripts/bench/) for `script`, here or in a guest; returns only when done in-process. */
export async function launch(script, entry, args) {
  if (process.getuid?.() !== 0) {
    process.stderr.write(`${script}: needs root (network namespaces)\n`);
    process.exit(1);
  }
  const kernelAt = args.indexOf("--kernel");
  if (kernelAt >= 0) process.exit(inGuest(script, args[kernelAt + 1], args.filter((_, i) => i !== kernelAt && i !== kernelAt + 1)));
  mkdirSync(join(ROOT, "dist"), { recursive: true });
  const scratch = mkdtempSync(join(ROOT, "dist", ".bench-"));
  try {
    const bundle = join(scratch, "bench.mjs");
    await build({
      entryPoints: [join(ROOT, entry)],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      outfile: bundle,
      logLevel: "error",
      external: ["netlink"],
      banner: { js: "import { createRequire as mptcpPolicyCreateRequire } from 'node:module'; const require = mptcpPolicyCreateRequire(import.meta.url);" },
    });
    if (!process.env.MPTCP_POLICY_VM) spawnSync(process.execPath, [join(ROOT, "scripts/build.mjs")], { stdio: "inherit" });
    process.argv = [process.argv[0], bundle, "--root", ROOT, ...args];
    await import(pathToFileURL(bundle).href);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function inGuest(script, name, rest) {
  const jsonAt = rest.indexOf("--json");
  const out = mkdtempSync(join(tmpdir(), "mptcp-policy-bench-"));
  chmodSync(out, 0o755);
  const inner = jsonAt >= 0 ? [...rest.slice(0, jsonAt), "--json", join(out, "result.json"), ...rest.slice(jsonAt + 2)] : rest;
  spawnSync(process.execPath, [join(ROOT, "scripts/build.mjs")], { stdio: "inherit" });
  const run = spawnSync("bash", [join(ROOT, "scripts/vm.sh"), "run", name, "--timeout", "5400", "--", process.execPath, join(ROOT, "scripts", script), ...inner], {
    stdio: "inherit",
    env: { ...process.env, VM_OUT: out },
  });
  if (jsonAt >= 0 && run.status === 0) copyFileSync(join(out, "result.json"), rest[jsonAt + 1]);
  rmSync(out, { recursive: true, force: true });
  return run.status ?? 1;
}
