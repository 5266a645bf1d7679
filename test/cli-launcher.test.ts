// bin/mptcp-policy as a program: its shell lines start `check` from the start-up
// snapshot (scripts/build-snapshot.mjs) when the node on PATH built it, and every other
// way (another command, no snapshot, a snapshot of another node) through the bundle;
// the output and exit status are the same either way. Witness of the path taken: sh -x.
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCli, ROOT } from "./helpers.js";

const BAD = join(ROOT, "test/fixtures/broken.policy");
const GOOD = join(ROOT, "examples/laptop-wifi-lte");
let copy: string;

/** Run a launcher under `sh -x`: its output, status, and whether it started from the snapshot. */
function launch(launcher: string, args: string[]) {
  const run = spawnSync("sh", ["-x", launcher, ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  const trace = run.stderr.split("\n").filter((l) => l.startsWith("+"));
  return {
    status: run.status,
    stdout: run.stdout,
    stderr: run.stderr
      .split("\n")
      .filter((l) => !l.startsWith("+"))
      .join("\n"),
    snapshot: trace.some((l) => l.includes("--snapshot-blob")),
  };
}

beforeAll(() => {
  buildCli();
  // A copy of the program (bin, dist, node_modules as a link) whose stamp can be spoilt.
  copy = mkdtempSync(join(tmpdir(), "mptcp-policy-launcher-"));
  cpSync(join(ROOT, "bin"), join(copy, "bin"), { recursive: true });
  cpSync(join(ROOT, "dist"), join(copy, "dist"), { recursive: true, filter: (src) => !src.includes("playground") && !src.endsWith(".deb") });
  cpSync(join(ROOT, "package.json"), join(copy, "package.json"));
  symlinkSync(join(ROOT, "node_modules"), join(copy, "node_modules"));
}, 120_000);
afterAll(() => rmSync(copy, { recursive: true, force: true }));

describe("bin/mptcp-policy", () => {
  it("starts check from the snapshot, with the bundle's output and status, for a good and a broken policy and for usage errors", () => {
    const cases = [["check", GOOD], ["check", "--format", "json", BAD], ["check", BAD], ["check", "--bogus"], ["check"], ["check", "--help"]];
    for (const args of cases) {
      const fast = launch(join(ROOT, "bin/mptcp-policy"), args);
      const plain = spawnSync(process.execPath, [join(ROOT, "bin/mptcp-policy"), ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
      expect(fast.snapshot, args.join(" ")).toBe(true);
      expect({ status: fast.status, stdout: fast.stdout, stderr: fast.stderr.trim() }).toEqual({
        status: plain.status,
        stdout: plain.stdout,
        stderr: plain.stderr.trim(),
      });
    }
    expect(launch(join(ROOT, "bin/mptcp-policy"), ["check", BAD]).status).toBe(1);
  });

  it("starts every other command through the bundle", () => {
    const run = launch(join(ROOT, "bin/mptcp-policy"), ["explain", GOOD]);
    expect(run.snapshot).toBe(false);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/path manager/);
  });

  it("starts run with small young-generation semi-spaces (the daemon's RSS on a busy server) and no snapshot", () => {
    const run = spawnSync("sh", ["-x", join(ROOT, "bin/mptcp-policy"), "run", "--help"], { encoding: "utf8" });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/--config/);
    const exec = run.stderr.split("\n").filter((l) => l.startsWith("+") && l.includes("exec node"));
    expect(exec).toEqual([expect.stringContaining("--max-semi-space-size=1")]);
    expect(launch(join(ROOT, "bin/mptcp-policy"), ["run", "--help"]).snapshot).toBe(false);
  });

  it("does not use a snapshot another node built, nor a missing one, and checks all the same", () => {
    const launcher = join(copy, "bin/mptcp-policy");
    expect(launch(launcher, ["check", BAD]).snapshot).toBe(true);
    // Another node binary (another inode, mtime or size) than the one on PATH.
    writeFileSync(join(copy, "dist/mptcp-policy-check.stamp"), "1 2 3\n");
    const other = launch(launcher, ["check", BAD]);
    expect(other.snapshot).toBe(false);
    expect(other.status).toBe(1);
    expect(other.stdout).toContain("error[");
    rmSync(join(copy, "dist/mptcp-policy-check.blob"));
    rmSync(join(copy, "dist/mptcp-policy-check.stamp"));
    const none = launch(launcher, ["check", GOOD]);
    expect(none.snapshot).toBe(false);
    expect(none.status).toBe(0);
  });
});
