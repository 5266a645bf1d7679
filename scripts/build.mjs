// Bundles the CLI into one ES module, so start-up reads one file instead of
// resolving hundreds of modules, and `check` alone into the entry of its V8 start-up
// snapshot (docs/development.md#start-up-of-check; `check` within 1.5x of `node -e 0`).
// `npm run build` runs this and then scripts/build-playground.mjs; the tests that
// need only the CLI run this alone (as `npm run build:cli` does).
import { build } from "esbuild";

await build({
  entryPoints: { "mptcp-policy": "runtime/cli/main.ts" },
  outdir: "dist",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  minify: true,
  sourcemap: "linked",
  legalComments: "linked",
  logLevel: "warning",
  // The netlink package loads its native addon relative to its own directory
  // (node-gyp-build): it stays in node_modules and is imported at run time.
  external: ["netlink"],
  // CommonJS dependencies (pino) require Node built-ins; an ES module has no `require`.
  banner: { js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);' },
  define: { MPTCP_POLICY_BUNDLED: "true" },
});

// `check` alone, as the start-up snapshot's entry (CommonJS, the format
// --build-snapshot runs), then the snapshot itself (scripts/build-snapshot.mjs).
await build({
  entryPoints: { "mptcp-policy-check": "runtime/cli/check-snapshot.ts" },
  outdir: "dist",
  outExtension: { ".js": ".cjs" },
  bundle: true,
  platform: "node",
  target: "node18",
  format: "cjs",
  minify: true,
  legalComments: "linked",
  logLevel: "warning",
  define: { MPTCP_POLICY_BUNDLED: "true" },
});
{
  const { spawnSync } = await import("node:child_process");
  const snapshot = spawnSync(process.execPath, ["scripts/build-snapshot.mjs"], { stdio: "inherit" });
  if (snapshot.status !== 0) process.exit(1);
}

// The libbpf helper of the BPF commands (test runs for `simulate --engine bpf`,
// `build`'s verifier check, attach): a small C program, rebuilt when its source
// changes. Without gcc and libbpf-dev the CLI still builds; those commands then say
// what to install.
{
  const { spawnSync } = await import("node:child_process");
  const { existsSync, statSync } = await import("node:fs");
  const source = "runtime/bpf/helper/mptcp-policy-bpf.c";
  const helper = "dist/mptcp-policy-bpf";
  if (existsSync(source) && (!existsSync(helper) || statSync(helper).mtimeMs < statSync(source).mtimeMs)) {
    if (existsSync("/usr/include/bpf/libbpf.h")) {
      const gcc = spawnSync("gcc", ["-O2", "-Wall", "-Wextra", "-Werror", "-o", helper, source, "-lbpf"], { stdio: "inherit" });
      if (gcc.status !== 0) process.exit(1);
    } else console.warn("build: dist/mptcp-policy-bpf not built: it needs gcc and libbpf-dev (bash scripts/setup.sh installs them)");
  }
}

// The daemon's sd_notify (systemd readiness and watchdog): a tiny Node addon, since
// Node has no Unix datagram sockets. Built against the running Node's headers when
// they are installed; without it `run` under Type=notify says what is missing.
{
  const { spawnSync } = await import("node:child_process");
  const { existsSync, statSync } = await import("node:fs");
  const { dirname, join } = await import("node:path");
  const source = "runtime/daemon/systemd-notify.c";
  const addon = "dist/mptcp-policy-notify.node";
  const headers = [join(dirname(process.execPath), "..", "include", "node"), "/usr/include/node"].find((d) => existsSync(join(d, "node_api.h")));
  if (existsSync(source) && (!existsSync(addon) || statSync(addon).mtimeMs < statSync(source).mtimeMs)) {
    if (headers) {
      const gcc = spawnSync("gcc", ["-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", `-I${headers}`, "-o", addon, source], { stdio: "inherit" });
      if (gcc.status !== 0) process.exit(1);
    } else console.warn("build: dist/mptcp-policy-notify.node not built: it needs Node's headers (node_api.h); without it the daemon cannot notify systemd");
  }
}
