// The daemon's building blocks that need no kernel: rate limits, delayed actions,
// start-up refusals, policy loading, and limits a kernel refuses.
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, describe, expect, it, vi } from "vitest";
import type { PolicyModel } from "../compiler/model.js";
import { compilePolicy } from "../compiler/pipeline.js";
import { DelayedActions } from "../runtime/daemon/delayed-actions.js";
import { applyLimits } from "../runtime/daemon/kernel-setup.js";
import { createLogger } from "../runtime/daemon/logger.js";
import { NetlinkError, type Limits, type MptcpPathManager } from "../runtime/netlink/index.js";
import { loadPolicy } from "../runtime/daemon/policy-source.js";
import { hasNetAdmin, mptcpProblem, permissionProblems } from "../runtime/daemon/preflight.js";
import { RateLimiter } from "../runtime/daemon/rate-limiter.js";

const dir = mkdtempSync(join(tmpdir(), "mptcp-policy-daemon-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("rate limiter", () => {
  it("allows a burst per connection, then refills at the rate", () => {
    let now = 0;
    const limiter = new RateLimiter({ rate: 2, burst: 3 }, { rate: 100, burst: 100 }, () => now);
    expect(["a", "a", "a", "a"].map((t) => limiter.allow(t))).toEqual(["ok", "ok", "ok", "connection"]);
    expect(limiter.allow("b")).toBe("ok");
    now = 500;
    expect([limiter.allow("a"), limiter.allow("a")]).toEqual(["ok", "connection"]);
  });

  it("keeps no entry for a connection whose bucket has refilled (a busy server's idle connections hold none)", () => {
    let now = 0;
    const limiter = new RateLimiter({ rate: 2, burst: 8 }, { rate: 100_000, burst: 100_000 }, () => now);
    for (let i = 0; i < 1000; i++) expect(limiter.allow(`c${i}`)).toBe("ok");
    expect(limiter.tracked).toBe(1000);
    // One token back after 500 ms: full again. New actions sweep the oldest entries, two at a time.
    now = 501;
    for (let i = 0; i < 10; i++) limiter.allow(`n${i}`);
    expect(limiter.tracked).toBe(1000 + 10 - 20);
    // A connection still in its burst keeps its entry and its limit.
    for (let i = 0; i < 8; i++) limiter.allow("busy");
    expect(limiter.allow("busy")).toBe("connection");
    now = 2000;
    for (let i = 0; i < 600; i++) limiter.allow(`m${i}`);
    expect(limiter.allow("busy")).toBe("ok");
  });

  it("caps all connections together with the global bucket", () => {
    const limiter = new RateLimiter({ rate: 1, burst: 5 }, { rate: 1, burst: 3 }, () => 0);
    expect(["a", "b", "c", "d"].map((t) => limiter.allow(t))).toEqual(["ok", "ok", "ok", "global"]);
  });
});

describe("delayed actions", () => {
  it("run after their delay, and closing a connection cancels its own", () => {
    vi.useFakeTimers();
    try {
      const delayed = new DelayedActions();
      const ran: string[] = [];
      delayed.schedule("a", 2000, () => ran.push("a1"));
      delayed.schedule("b", 2000, () => ran.push("b1"));
      delayed.schedule(undefined, 1000, () => ran.push("global"));
      expect(delayed.pending()).toBe(3);
      vi.advanceTimersByTime(1000);
      expect(delayed.cancel("a")).toBe(1);
      vi.advanceTimersByTime(1000);
      expect(ran).toEqual(["global", "b1"]);
      expect(delayed.pending()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("preflight", () => {
  it("reads CAP_NET_ADMIN from the effective capability set", () => {
    expect(hasNetAdmin("Name:\tx\nCapEff:\t0000000000001000\n")).toBe(true);
    expect(hasNetAdmin("Name:\tx\nCapEff:\t0000000000000000\n")).toBe(false);
  });

  it("says how to enable MPTCP when it is off", () => {
    writeFileSync(join(dir, "enabled"), "0\n");
    expect(mptcpProblem(dir)).toBe("MPTCP is disabled in this network namespace. Try 'sysctl -w net.mptcp.enabled=1'.");
    writeFileSync(join(dir, "enabled"), "1\n");
    expect(mptcpProblem(dir)).toBeUndefined();
    expect(mptcpProblem(join(dir, "missing"))).toMatch(/no MPTCP/);
  });

  it("refuses policy files writable by group or others, or not owned by root", () => {
    const path = join(dir, "p.policy");
    writeFileSync(path, "limits subflows 2\n");
    chmodSync(path, 0o664);
    expect(permissionProblems([path])).toEqual([`${path} is writable by its group. Try 'chmod go-w ${path}', or start with --insecure-permissions.`]);
    chmodSync(path, 0o644);
    expect(permissionProblems([path])).toEqual([]);
    chownSync(path, 65534, 65534);
    expect(permissionProblems([path])[0]).toMatch(/owned by uid 65534, not root/);
    chownSync(path, 0, 0);
  });
});

describe("policy loading", () => {
  it("loads a good policy and refuses a broken one with its diagnostics", () => {
    const policy = join(dir, "etc");
    mkdirSync(policy, { mode: 0o755 });
    writeFileSync(join(policy, "a.policy"), 'interface wifi = "wlan0"\nendpoint wifi subflow\n', { mode: 0o644 });
    const good = loadPolicy(policy, { insecurePermissions: false });
    expect(good.ok).toBe(true);
    writeFileSync(join(policy, "b.policy"), "on established then create via wfi\n", { mode: 0o644 });
    const bad = loadPolicy(policy, { insecurePermissions: false });
    expect(bad, JSON.stringify(bad)).toMatchObject({ ok: false, problems: [expect.stringContaining("b.policy:1:32: error[E100]: interface 'wfi' is not declared")] });
  });
});

describe("limits above the kernel's maximum", () => {
  const model = (text: string) => compilePolicy([{ name: "p.policy", text }]).model as PolicyModel;
  const POLICY = 'interface wifi = "wlan0"\nendpoint wifi subflow\nlimits subflows 16 add_addr_accepted 4\n';

  /** A path manager that refuses limits above `maximum` as a kernel does, with `answer` as its extack. */
  function kernel(maximum: number, answer: string) {
    const set: Partial<Limits>[] = [];
    const pm = {
      async setLimits(limits: Partial<Limits>) {
        if (Object.values(limits).some((v) => v > maximum)) throw new NetlinkError({ errno: 22, request: "mptcp_pm SET_LIMITS", extack: answer });
        set.push(limits);
      },
    };
    return { pm: pm as unknown as MptcpPathManager, set };
  }

  function logged() {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) });
    return { logger: createLogger("info", stream), lines };
  }

  it("sets the maximum the kernel's answer names, 8 where it names none (Linux 6.1), with one warning naming the limits line", async () => {
    for (const [maximum, answer, expected] of [
      [8, "limit greater than maximum", 8],
      [8, "limit greater than maximum (8)", 8],
      [12, "limit greater than maximum (12)", 12],
    ] as const) {
      const { pm, set } = kernel(maximum, answer);
      const { logger, lines } = logged();
      await applyLimits(pm, model(POLICY), logger);
      expect(set, answer).toEqual([{ subflows: expected, add_addr_accepted: 4 }]);
      expect(lines.filter((l) => l["level"] === 40)).toEqual([
        expect.objectContaining({
          at: "p.policy:3",
          result: "EINVAL",
          extack: answer,
          maximum: expected,
          msg: `p.policy:3: this kernel allows limits of at most ${expected} (it answered "${answer}"): set subflows ${expected} instead of 16`,
        }),
      ]);
    }
  });

  it("says nothing for limits the kernel takes, and passes on any other refusal", async () => {
    const { pm, set } = kernel(64, "limit greater than maximum (64)");
    const { logger, lines } = logged();
    await applyLimits(pm, model(POLICY), logger);
    expect(set).toEqual([{ subflows: 16, add_addr_accepted: 4 }]);
    expect(lines.filter((l) => l["level"] === 40)).toEqual([]);
    const refusing = { setLimits: () => Promise.reject(new NetlinkError({ errno: 1, request: "mptcp_pm SET_LIMITS" })) } as unknown as MptcpPathManager;
    await expect(applyLimits(refusing, model(POLICY), logger)).rejects.toMatchObject({ code: "EPERM" });
  });
});

describe("the systemd unit in examples/", () => {
  it("passes systemd-analyze verify and keeps its hardening", async () => {
    const { readFileSync } = await import("node:fs");
    const { spawnSync } = await import("node:child_process");
    const { ROOT } = await import("./helpers.js");
    const unit = readFileSync(join(ROOT, "examples/mptcp-policy.service"), "utf8");
    for (const line of ["CapabilityBoundingSet=CAP_NET_ADMIN", "ProtectSystem=strict", "NoNewPrivileges=yes", "ExecStartPre=/usr/local/bin/mptcp-policy check /etc/mptcp-policy"]) {
      expect(unit).toContain(line);
    }
    // Verified with the binary path pointed at this checkout, so the check is about the unit itself.
    const copy = join(dir, "mptcp-policy.service");
    writeFileSync(copy, unit.replaceAll("/usr/local/bin/mptcp-policy", join(ROOT, "bin/mptcp-policy")));
    const result = spawnSync("systemd-analyze", ["verify", copy], { encoding: "utf8" });
    expect(result.stderr.split("\n").filter((l) => l.includes("mptcp-policy.service"))).toEqual([]);
  });
});
