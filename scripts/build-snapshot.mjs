#!/usr/bin/env node
// Builds the V8 start-up snapshot of `check` (dist/mptcp-policy-check.blob) from its
// bundle (dist/mptcp-policy-check.cjs, made by scripts/build.mjs) with the node that
// runs this script, and writes which node that was (dist/mptcp-policy-check.stamp: the
// binary's inode, mtime and size, as `stat -L -c '%i %Y %s'` prints them). A snapshot
// only loads in the very node binary that built it, so bin/mptcp-policy uses it only
// when the `node` it would start is that binary. Needs no esbuild: the Debian package's
// postinst runs it (node /usr/lib/mptcp-policy/scripts/build-snapshot.mjs), and again
// when nodejs is upgraded. Usage: node scripts/build-snapshot.mjs [DIST] | --remove [DIST]
import { spawnSync } from "node:child_process";
import { existsSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
const remove = args[0] === "--remove";
const dist = resolve(args[remove ? 1 : 0] ?? join(dirname(fileURLToPath(import.meta.url)), "..", "dist"));
const entry = join(dist, "mptcp-policy-check.cjs");
const blob = join(dist, "mptcp-policy-check.blob");
const stamp = join(dist, "mptcp-policy-check.stamp");

const clear = () => {
  rmSync(stamp, { force: true });
  rmSync(blob, { force: true });
};
if (remove) {
  clear();
  process.exit(0);
}
if (!existsSync(entry)) {
  console.error(`build-snapshot: ${entry} is missing (node scripts/build.mjs builds it)`);
  process.exit(1);
}
// Built under temporary names and renamed into place: a `check` starting meanwhile
// (the test files build in parallel) reads a whole snapshot, the old one or the new.
const temporary = (path) => `${path}.${process.pid}.tmp`;
const built = spawnSync(process.execPath, ["--snapshot-blob", temporary(blob), "--build-snapshot", entry], { encoding: "utf8" });
if (built.status !== 0) {
  // Not fatal: `check` then starts as every other command does.
  console.error(`build-snapshot: no start-up snapshot (node ${process.version}): ${(built.stderr || built.error?.message || "").trim().split("\n")[0]}`);
  rmSync(temporary(blob), { force: true });
  clear();
  process.exit(0);
}
const node = statSync(process.execPath);
writeFileSync(temporary(stamp), `${node.ino} ${Math.floor(node.mtimeMs / 1000)} ${node.size}\n`);
renameSync(temporary(blob), blob);
renameSync(temporary(stamp), stamp);
