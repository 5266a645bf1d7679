// Bugs found in review, each pinned by the input that showed it.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compilePolicy } from "../compiler/pipeline.js";
import { render } from "../language/diagnostics.js";
import { codes, diagnose, ROOT, runCli } from "./helpers.js";

const DECLS = 'interface wifi = "wlan0"\ninterface lte = "wwan0"\nendpoint wifi subflow\nendpoint lte subflow\n';
let dir: string;

beforeAll(() => {
  execFileSync(process.execPath, ["scripts/build.mjs"], { cwd: ROOT });
  dir = mkdtempSync(join(tmpdir(), "mptcp-policy-regressions-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("checker", () => {
  it("gives a scheduler step's E502 a hint about steps, not about 'for'", () => {
    const [d] = diagnose(`${DECLS}scheduler a { use where error timeout }`);
    expect(d).toMatchObject({ code: "E502" });
    expect(d?.hint).toMatch(/a step tests subflows/);
  });

  it("W601: an earlier rule without an interface shadows a later one with one", () => {
    expect(codes(`${DECLS}on iface_down then log "x"\non iface_down wifi then log "y"`)).toContain("W601");
    expect(codes(`${DECLS}on iface_down wifi then log "x"\non iface_down then log "y"`)).not.toContain("W601");
  });

  it("W600: a subflow-count guard does not stop a loop on subflow_closed, and 'after 0s' is no delay", () => {
    expect(codes(`${DECLS}on subflow_closed if iface lte and subflows < 3 then create via lte`)).toContain("W600");
    expect(codes(`${DECLS}on subflow_closed if iface lte then create via lte after 0s`)).toContain("W600");
    expect(codes(`${DECLS}on subflow_established if iface lte and subflows < 3 then create via lte`)).not.toContain("W600");
  });

  it("W602 is not added to an interface whose only use was rejected (E202)", () => {
    expect(codes('interface wifi = "wlan0"\non established wifi then log "x"')).toEqual(["E202"]);
  });

  it("E003 for a capitalised keyword says keywords are lower-case", () => {
    expect(diagnose('On established then log "x"')).toMatchObject([{ code: "E003", hint: "keywords are lower-case: write 'on'" }]);
  });

  it("keeps control characters of the input out of messages", () => {
    const result = compilePolicy([{ name: "t.policy", text: "on established then \x1b[31m" }]);
    for (const d of result.diagnostics) expect(render(d)).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
  });

  it("cuts 100,000 'not's to a diagnostic, keeping what the rest means", () => {
    const odd = diagnose(`${DECLS}on established if ${"not ".repeat(100_001)}backup then log "x"`);
    expect(odd.map((d) => d.code)).toEqual(["E004"]);
    const result = compilePolicy([{ name: "t.policy", text: `on established if ${"not ".repeat(33)}backup then log "x"` }]);
    const rule = result.files[0]?.statements[0];
    let depth = 0;
    let condition = rule?.kind === "Rule" ? rule.condition : undefined;
    while (condition?.kind === "Not") {
      depth += 1;
      condition = condition.operand;
    }
    expect(depth % 2).toBe(1);
  });
});

describe("CLI", () => {
  it("counts every problem in the summary even past the per-file cap", () => {
    const path = join(dir, "many.policy");
    writeFileSync(path, "limits bogus 1\n".repeat(200));
    const result = runCli(["check", path]);
    expect(result.stderr).toBe("200 errors, 0 warnings in 1 file\n");
    expect(result.stdout).toContain("error[E005]: 100 more problems in this file not shown");
  });

  it("fmt on a read-only file system is an I/O error: exit 2, one line", () => {
    const mount = join(dir, "ro");
    mkdirSync(mount);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mount]);
    try {
      writeFileSync(join(mount, "a.policy"), "limits   subflows 2\n");
      execFileSync("mount", ["-o", "remount,ro", mount]);
      const result = runCli(["fmt", join(mount, "a.policy")]);
      expect(result.status).toBe(2);
      expect(result.stderr).toBe(`mptcp-policy: ${join(mount, "a.policy")}: cannot write: read-only file system\n`);
    } finally {
      execFileSync("umount", [mount]);
    }
  });
});
