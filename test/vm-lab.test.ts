// The kernel lab itself (scripts/vm.sh): the kernels it lists, a command's output and
// exit status, the read-only host root under the overlay, the one writable output
// directory, the timeout, and systemd as PID 1. Each case boots a real guest.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "./helpers.js";

const VM = join(ROOT, "scripts/vm.sh");
const canBoot = process.getuid?.() === 0 && spawnSync("sh", ["-c", "command -v qemu-system-x86_64"]).status === 0;
const out = mkdtempSync(join(tmpdir(), "mptcp-policy-vm-test-"));
chmodSync(out, 0o755);
afterAll(() => rmSync(out, { recursive: true, force: true }));

function vm(args: string[], env: Record<string, string> = {}, cwd = ROOT) {
  return spawnSync("bash", [VM, ...args], { cwd, encoding: "utf8", timeout: 300_000, env: { ...process.env, ...env } });
}

// A boot takes about 5 s, systemd's about 40 s, under emulation.
describe.skipIf(!canBoot)("scripts/vm.sh", { timeout: 300_000 }, () => {
  it("lists the kernels of Debian 12, 13 and unstable as NAME RELEASE", () => {
    const result = vm(["kernels"]);
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split("\n");
    expect(lines.map((l) => l.split(" ")[0])).toEqual(["6.1", "6.12", "7"]);
    expect(lines[0]).toMatch(/^6\.1 6\.1\.\d+-\d+-amd64$/);
    expect(lines[1]).toMatch(/^6\.12 6\.12\.\d+\+deb13-amd64$/);
    expect(lines[2]).toMatch(/^7 7\.\d+\.\d+\+deb\d+-amd64$/);
  });

  it("runs a command as root in the current directory, prints its output, exits with its status; the host is written only through VM_OUT", () => {
    // Regression: a fresh clone below /tmp (mode 0700) was hidden by a tmpfs on the guest's /tmp.
    const cwd = mkdtempSync(join(tmpdir(), "mptcp-policy-vm-cwd-"));
    try {
      const script = [
        `uname -r; id -u; pwd; echo "vm=$MPTCP_POLICY_VM"`,
        "echo written > probe.txt; cat probe.txt",
        `echo shared > "$VM_OUT/out.txt"`,
        "ls /sys/kernel/btf/vmlinux >/dev/null && tc qdisc add dev lo root netem delay 1ms && echo netem",
        "exit 7",
      ].join("; ");
      const result = vm(["run", "6.1", "--", "sh", "-c", script], { VM_OUT: out }, cwd);
      expect(result.status, result.stderr).toBe(7);
      expect(result.stdout.trim().split("\n")).toEqual([expect.stringMatching(/^6\.1\.\d+-\d+-amd64$/), "0", cwd, "vm=6.1", "written", "netem"]);
      expect(existsSync(join(cwd, "probe.txt"))).toBe(false);
      expect(readFileSync(join(out, "out.txt"), "utf8")).toBe("shared\n");
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it("exits 124 when the command outlives --timeout", () => {
    const started = Date.now();
    const result = vm(["run", "7", "--timeout", "10", "--", "sleep", "600"]);
    expect(result.status).toBe(124);
    expect(result.stderr).toContain("timed out after 10 s");
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it("--systemd boots systemd as PID 1 and runs the command once the system is up", () => {
    // Regression: systemd-tmpfiles emptied /tmp at boot, and a checkout below it with it.
    const cwd = mkdtempSync(join(tmpdir(), "mptcp-policy-vm-cwd-"));
    try {
      const result = vm(
        ["run", "6.12", "--systemd", "--timeout", "240", "--", "sh", "-c", "cat /proc/1/comm; systemctl is-active multi-user.target; pwd; exit 3"],
        {},
        cwd,
      );
      expect(result.stdout.trim().split("\n"), result.stderr).toEqual(["systemd", "active", cwd]);
      expect(result.status).toBe(3);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
