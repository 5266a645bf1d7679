// Rebuilds the native part of the `netlink` npm package after patch-package has
// applied patches/netlink+0.3.0.patch (run from package.json "postinstall").
// The patch adds integer setsockopt/getsockopt (NETLINK_EXT_ACK, NETLINK_CAP_ACK,
// SO_RCVBUFFORCE), socket creation inside another network namespace, recvmmsg()
// reads, trySend() and socket filters, classic and eBPF (docs/netlink.md); the package's prebuilt
// binaries lack them, so the addon is compiled here with
// node-gyp into node_modules/netlink/build/Release, which node-gyp-build loads
// before the prebuilds. See docs/netlink.md.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const packageDir = join(root, "node_modules", "netlink");
const built = join(packageDir, "build", "Release", "netlink_binding.node");
const source = join(packageDir, "src", "binding.cc");

function fail(message) {
  process.stderr.write(`build-netlink-addon: ${message}\n`);
  process.exit(1);
}

if (!existsSync(source)) fail(`${source} is missing: run 'npm ci' first`);
if (!readFileSync(source, "utf8").includes("SetSockOpt")) fail("the netlink patch is not applied (run 'npx patch-package')");

const upToDate = existsSync(built) && statSync(built).mtimeMs >= statSync(source).mtimeMs;
if (!upToDate) {
  // node-gyp: npm sets npm_config_node_gyp while running scripts; else the copy bundled with npm.
  const npmDir = join(dirname(process.execPath), "..", "lib", "node_modules", "npm");
  const candidates = [process.env["npm_config_node_gyp"], join(npmDir, "node_modules", "node-gyp", "bin", "node-gyp.js")];
  const nodeGyp = candidates.find((c) => c && existsSync(c));
  if (!nodeGyp) fail("node-gyp not found (it ships with npm); install npm or node-gyp");
  const args = [nodeGyp, "rebuild"];
  // Build against the headers of the running Node when they are installed (no download).
  const prefix = join(dirname(process.execPath), "..");
  if (existsSync(join(prefix, "include", "node", "node_api.h"))) args.push(`--nodedir=${prefix}`);
  const result = spawnSync(process.execPath, args, { cwd: packageDir, stdio: ["ignore", "ignore", "inherit"] });
  if (result.status !== 0) fail(`node-gyp rebuild failed (exit ${result.status}); g++, make and python3 are needed`);
}

// Check that what node-gyp-build loads is the patched addon.
const require = createRequire(join(root, "package.json"));
const { RawNetlinkSocket } = require("netlink");
if (typeof RawNetlinkSocket.prototype.setSockOpt !== "function") fail("the netlink package loads an unpatched addon");
