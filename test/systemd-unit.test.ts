// examples/mptcp-policy.service under a real systemd: the kernel lab's --systemd guest
// (systemd is PID 1 there, the root file system a throwaway overlay):
//   flock /tmp/mptcp-heavy.lock bash scripts/vm.sh run 7 --systemd -- npx vitest run test/systemd-unit.test.ts
// Start (Type=notify: `systemctl start` returns once READY=1 came), reload with a good
// and a broken policy, a hang (the test-only SIGUSR2 that blocks the event loop) that the
// watchdog ends with a restart, and a stop that restores the kernel's state.
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { recordUnsupported } from "./kernel-support.js";
import { ROOT } from "./helpers.js";

const UNIT = "mptcp-policy.service";
const UNIT_PATH = `/run/systemd/system/${UNIT}`;
const POLICY_DIR = "/etc/mptcp-policy";
/** Shorter than the example's 10 s, so the hang is noticed soon; long enough for a guest under TCG. */
const WATCHDOG_SEC = 6;
// An action on established (not a log alone, which the in-kernel path manager serves):
// the userspace path manager, so stop has a path manager to restore.
const GOOD = 'interface wifi = "eth*"\non established if iface wifi then set wifi active, log "one"\n';
const BETTER = `${GOOD}on closed then log "two"\n`;
const BROKEN = "on established then frobnicate\n";

// Only in the lab's guest: it installs a unit and writes /etc/mptcp-policy.
const inGuest = process.env["MPTCP_POLICY_VM"] !== undefined && readFileSync("/proc/1/comm", "utf8").trim() === "systemd";
const TITLE = "the example unit under systemd";
if (!inGuest) recordUnsupported(TITLE, "needs systemd as PID 1: run in the kernel lab's --systemd guest (bash scripts/vm.sh run 7 --systemd -- ...)");

function run(command: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(command, args, { encoding: "utf8", timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function show(...properties: string[]): Record<string, string> {
  const out = run("systemctl", "show", UNIT, ...properties.map((p) => `--property=${p}`)).stdout;
  return Object.fromEntries(
    out
      .trim()
      .split("\n")
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

function kernelState(): string {
  const pm = existsSync("/proc/sys/net/mptcp/path_manager")
    ? readFileSync("/proc/sys/net/mptcp/path_manager", "utf8").trim()
    : readFileSync("/proc/sys/net/mptcp/pm_type", "utf8").trim();
  return `${pm}\n${run("ip", "mptcp", "limits", "show").stdout}${run("ip", "mptcp", "endpoint", "show").stdout}`;
}

function pathManager(): string {
  return kernelState().split("\n")[0]!;
}

function writePolicy(text: string): void {
  writeFileSync(`${POLICY_DIR}/policy.policy`, text, { mode: 0o644 });
}

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}: ${JSON.stringify(show("ActiveState", "SubState", "StatusText", "NRestarts", "MainPID", "Result"))}\n${journal()}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}

function journal(): string {
  return run("journalctl", "-u", UNIT, "-o", "cat", "--no-pager").stdout;
}

afterAll(() => {
  if (!inGuest) return;
  run("systemctl", "stop", UNIT);
  rmSync(UNIT_PATH, { force: true });
  rmSync(POLICY_DIR, { recursive: true, force: true });
  rmSync("/opt/mptcp-policy", { recursive: true, force: true });
  run("systemctl", "daemon-reload");
});

/**
 * The CLI installed as the example's header says (under /opt/mptcp-policy; the guest's
 * root is a throwaway overlay): the unit's PrivateTmp= and ProtectHome= hide a checkout
 * below /tmp, /home or /root from the daemon (regression: a CI clone under /tmp, where
 * ExecStartPre's check found no program). What runs is this checkout's build.
 */
function installCopy(): string {
  const dest = "/opt/mptcp-policy";
  rmSync(dest, { recursive: true, force: true });
  const skip = (path: string) => /\/playground|\.deb$|\.map$|\/prebuilds|\/src$/.test(path);
  for (const part of ["bin", "dist", "package.json", "node_modules/netlink", "node_modules/node-gyp-build"])
    cpSync(`${ROOT}${part}`, `${dest}/${part}`, { recursive: true, dereference: true, filter: (src) => !skip(src.slice(ROOT.length)) });
  return dest;
}

describe.skipIf(!inGuest)("mptcp-policy.service", () => {
  it(
    TITLE,
    async () => {
      // The example, with this checkout's CLI, a short watchdog and the test-only hang armed.
      const example = readFileSync(`${ROOT}examples/mptcp-policy.service`, "utf8");
      const unit = example
        .replaceAll("/usr/local/bin/mptcp-policy", `${installCopy()}/bin/mptcp-policy`)
        .replace(/^WatchdogSec=.*$/m, `WatchdogSec=${WATCHDOG_SEC}s`)
        .replace(/^\[Service\]$/m, "[Service]\nEnvironment=MPTCP_POLICY_TEST_HANG_ON_SIGUSR2=1");
      expect(unit).toContain("Type=notify\nNotifyAccess=main\n");
      writeFileSync(UNIT_PATH, unit);
      mkdirSync(POLICY_DIR, { recursive: true, mode: 0o755 });
      chmodSync(POLICY_DIR, 0o755);
      writePolicy(GOOD);
      expect(run("systemctl", "daemon-reload").status).toBe(0);
      const before = kernelState();
      expect(pathManager()).toMatch(/^(kernel|0)$/);

      // Start: returns only once READY=1 came; the status line is the daemon's.
      const start = run("systemctl", "start", UNIT);
      expect(start.status, `${start.stderr}\n${journal()}`).toBe(0);
      let state = show("Type", "NotifyAccess", "ActiveState", "SubState", "StatusText", "WatchdogUSec", "MainPID");
      expect(state).toMatchObject({ Type: "notify", NotifyAccess: "main", ActiveState: "active", SubState: "running", WatchdogUSec: `${WATCHDOG_SEC}s` });
      expect(state["StatusText"]).toBe(`policy ${POLICY_DIR} (1 rule), userspace path manager, 0 connections`);
      expect(pathManager()).toMatch(/^(userspace|1)$/);
      const firstPid = state["MainPID"];

      // A good reload: the new rule count; a broken one: rejected, still running.
      writePolicy(BETTER);
      expect(run("systemctl", "reload", UNIT).status).toBe(0);
      await until(
        "the new policy in the status line",
        () => show("StatusText")["StatusText"] === `policy ${POLICY_DIR} (2 rules), userspace path manager, 0 connections`,
      );
      writePolicy(BROKEN);
      expect(run("systemctl", "reload", UNIT).status).toBe(0);
      await until(
        "the rejected reload in the status line",
        () =>
          show("StatusText")["StatusText"] ===
          `last reload rejected, the running policy stays: policy ${POLICY_DIR} (2 rules), userspace path manager, 0 connections`,
      );
      expect(show("ActiveState")["ActiveState"]).toBe("active");
      expect(journal()).toContain("the new policy was rejected; the running policy stays in force");
      writePolicy(BETTER);

      // A hang: the loop blocks, the pings stop, the watchdog kills and systemd restarts it.
      expect(run("systemctl", "kill", "--kill-who=main", "--signal=SIGUSR2", UNIT).status).toBe(0);
      const hungAt = Date.now();
      await until(
        "a restart by the watchdog",
        () => {
          const s = show("NRestarts", "ActiveState", "SubState", "MainPID");
          return s["NRestarts"] === "1" && s["ActiveState"] === "active" && s["SubState"] === "running" && s["MainPID"] !== firstPid;
        },
        90_000,
      );
      const restartedAfter = (Date.now() - hungAt) / 1000;
      expect(journal()).toMatch(/[Ww]atchdog timeout/);
      expect(restartedAfter).toBeGreaterThan(WATCHDOG_SEC - 1);
      process.stdout.write(
        `systemd: the hung daemon was restarted ${restartedAfter.toFixed(1)} s after the hang (WatchdogSec=${WATCHDOG_SEC}s, RestartSec=2s)\n`,
      );
      state = show("StatusText");
      expect(state["StatusText"]).toMatch(/^policy \/etc\/mptcp-policy \(2 rules\), userspace path manager, \d+ connections?$/);

      // Stop: STOPPING=1, and the kernel's state as it was before the first start
      // (the killed run left its saved state behind; the new run restored that one).
      expect(run("systemctl", "stop", UNIT).status).toBe(0);
      expect(show("ActiveState")["ActiveState"]).toBe("inactive");
      expect(kernelState()).toBe(before);
    },
    300_000,
  );
});
