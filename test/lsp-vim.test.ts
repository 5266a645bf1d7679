// Another real client: Debian's Vim with Debian's ALE (vim-ale), the generic LSP
// plugin docs/editors.md sets up for Vim (editors/vim/ale_linters/), driven by
// test/lsp-vim/drive.vim on a directory policy with a mistake, which it fixes with
// the server's code action. Skipped where Vim or
// ALE is not installed (scripts/setup.sh installs both).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, ROOT } from "./helpers.js";
import { freshCli } from "./lsp-support.js";

const HAVE_VIM = spawnSync("vim", ["--version"]).status === 0 && existsSync("/usr/share/vim-ale/plugin/ale.vim");

interface Seen {
  filetype: string;
  diagnostics: { lnum: number; col: number; end_col: number; code: string; type: string; text: string }[];
  completion: string[];
  hover: string[];
  codeaction: { offered: string[]; line: string };
  after_fix: number;
  definition: [string, number, number];
  rename: { interfaces: string[]; rules: string[] };
}

let seen: Seen;
let base: string;

describe.skipIf(!HAVE_VIM)("Vim with ALE on mptcp-policy lsp", () => {
  beforeAll(() => {
    freshCli();
    base = mkdtempSync(join(tmpdir(), "mptcp-policy-vim-"));
    const dir = join(base, "policy");
    mkdirSync(dir);
    writeFileSync(join(dir, "10-interfaces.policy"), 'interface wifi = "wlan0"\ninterface lte = "wwan0"\nendpoint wifi subflow\n');
    writeFileSync(join(dir, "20-rules.policy"), "on iface_down wifi then set lte active\non subflow_closed if iface wfi then create via lte\n");
    const out = join(base, "seen.json");
    const run = spawnSync("vim", ["-Nu", "NONE", "-i", "NONE", "-n", "-es", "-S", join(ROOT, "test/lsp-vim/drive.vim")], {
      encoding: "utf8",
      timeout: 90_000,
      env: { ...process.env, REPO: ROOT, CLI, POLICY_DIR: dir, OUT: out, HOME: base },
    });
    if (!existsSync(out)) throw new Error(`vim wrote nothing (status ${run.status}): ${run.stderr}${run.stdout}`);
    seen = JSON.parse(readFileSync(out, "utf8")) as Seen;
  }, 120_000);

  afterAll(() => {
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it("detects the filetype and shows the checker's diagnostic at its line and column", () => {
    expect(seen.filetype).toBe("mptcp-policy");
    // ALE's columns are 1-based, its end column inclusive.
    expect(seen.diagnostics).toEqual([
      { lnum: 2, col: 28, end_col: 30, code: "E100", type: "E", text: "interface 'wfi' is not declared hint: did you mean 'wifi'?" },
    ]);
  });

  it("completes an event name", () => {
    expect(seen.completion).toEqual(expect.arrayContaining(["subflow_established", "subflow_closed", "subflow_priority"]));
    expect(seen.completion.every((w) => w.startsWith("subf"))).toBe(true);
  });

  it("hovers a condition", () => {
    expect(seen.hover.join("\n")).toContain("Condition on the interface");
  });

  it("offers the checker's hint as a code action and applies it; the diagnostic goes", () => {
    expect(seen.codeaction.offered).toEqual([expect.stringContaining("1) Change to 'wifi'")]);
    expect(seen.codeaction.line).toBe("on subflow_closed if iface wifi then create via lte");
    expect(seen.after_fix).toBe(0);
  });

  it("goes to the interface's declaration in the other file and renames it in both", () => {
    expect(seen.definition).toEqual(["10-interfaces.policy", 2, 11]);
    expect(seen.rename.interfaces).toEqual(['interface wifi = "wlan0"', 'interface cellular = "wwan0"', "endpoint wifi subflow"]);
    expect(seen.rename.rules).toEqual(["on iface_down wifi then set cellular active", "on subflow_closed if iface wifi then create via cellular"]);
  });
});
