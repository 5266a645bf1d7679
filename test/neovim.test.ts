// A real client that nobody here wrote: Debian's Neovim (0.7, its built-in LSP
// client), headless, with the set-up docs/editors.md gives (editors/vim's filetype
// detection, editors/neovim/mptcp-policy.lua), driven by test/neovim/drive.lua on a
// directory policy with a mistake, its last step typed in Insert mode. Skipped where nvim is not installed
// (scripts/setup.sh installs it).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, ROOT } from "./helpers.js";
import { freshCli } from "./lsp-support.js";

const NVIM = spawnSync("nvim", ["--version"], { encoding: "utf8" });
const HAVE_NVIM = NVIM.status === 0;

const INTERFACES = `# What the kernel sees.
interface wifi = "wlan0"
interface lte = "wwan0", "usb*"

limits subflows 4
endpoint wifi subflow
`;
// Line 2 has the mistake: 'wfi' for 'wifi' (column 28).
const RULES = `on iface_down wifi then set lte active
on subflow_closed if iface wfi then create via lte
on iface_up wifi then set lte backup, log "wifi is back"
`;

interface Results {
  steps: Record<string, unknown>;
  errors: Record<string, string>;
}

let results: Results;
let stderr = "";

describe.skipIf(!HAVE_NVIM)("Neovim's built-in LSP client on mptcp-policy lsp", () => {
  let base: string;

  beforeAll(() => {
    freshCli();
    base = mkdtempSync(join(tmpdir(), "mptcp-policy-nvim-"));
    // Not under /etc/mptcp-policy: the filetype comes from what the file reads like.
    const dir = join(base, "policy");
    mkdirSync(dir);
    writeFileSync(join(dir, "10-interfaces.policy"), INTERFACES);
    writeFileSync(join(dir, "20-rules.policy"), RULES);
    const out = join(base, "results.json");
    const run = spawnSync(
      "nvim",
      [
        "--headless",
        "-u",
        "NONE",
        "-i",
        "NONE",
        "-n",
        "--cmd",
        `set runtimepath^=${join(ROOT, "editors/vim")}`,
        "--cmd",
        "filetype plugin on",
        "--cmd",
        `let g:mptcp_policy_lsp_cmd = ['${process.execPath}', '${CLI}', 'lsp']`,
        "-c",
        `luafile ${join(ROOT, "editors/neovim/mptcp-policy.lua")}`,
        "-c",
        `luafile ${join(ROOT, "test/neovim/drive.lua")}`,
      ],
      {
        encoding: "utf8",
        timeout: 90_000,
        env: {
          ...process.env,
          MPTCP_POLICY_NVIM_DIR: dir,
          MPTCP_POLICY_NVIM_OUT: out,
          HOME: base,
          XDG_CONFIG_HOME: base,
          XDG_DATA_HOME: base,
          XDG_STATE_HOME: base,
        },
      },
    );
    stderr = `${run.stderr}${run.error ? String(run.error) : ""}`;
    if (!existsSync(out)) throw new Error(`nvim wrote no results (status ${run.status}): ${stderr}`);
    results = JSON.parse(readFileSync(out, "utf8")) as Results;
  }, 120_000);

  afterAll(() => {
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it("runs every step without an error", () => {
    // (An empty Lua table is a JSON array.)
    expect(Object.entries(results.errors), stderr).toEqual([]);
  });

  it("detects the filetype and starts the server for it", () => {
    expect(results.steps["open"]).toEqual({ filetype: "mptcp-policy", client: "mptcp-policy" });
  });

  it("shows the checker's diagnostic at its line and column", () => {
    // 0-based in Neovim: line 2, column 28 of the checker.
    expect(results.steps["diagnostics"]).toEqual([
      {
        lnum: 1,
        col: 27,
        end_lnum: 1,
        end_col: 30,
        severity: 1,
        source: "mptcp-policy",
        code: "E100",
        message: "interface 'wfi' is not declared\nhint: did you mean 'wifi'?",
      },
    ]);
  });

  it("completes an event name", () => {
    const { omnifunc, words } = results.steps["completion"] as { omnifunc: string; words: string[] };
    expect(omnifunc).toBe("v:lua.vim.lsp.omnifunc");
    expect(words).toEqual(expect.arrayContaining(["subflow_established", "subflow_closed", "subflow_priority"]));
    expect(words.every((w) => w.startsWith("subf"))).toBe(true);
  });

  it("completes it in Insert mode with <C-x><C-o>, as a user types", () => {
    const { menu, line } = results.steps["insert-mode completion"] as { menu: string[]; line: string };
    expect(menu.slice(0, 3)).toEqual(["subflow_established", "subflow_closed", "subflow_priority"]);
    expect(menu.every((w) => w.startsWith("subf"))).toBe(true);
    // <C-n> went from the first to the second.
    expect(line).toBe("on subflow_closed");
  });

  it("hovers a condition with the vocabulary's help", () => {
    expect((results.steps["hover"] as string[]).join("\n")).toContain("Condition on the interface");
  });

  it("applies the quick fix of the checker's hint, and the diagnostic goes", () => {
    expect(results.steps["quickfix"]).toEqual({ title: "Change to 'wifi'", line: "on subflow_closed if iface wifi then create via lte" });
  });

  it("formats as mptcp-policy fmt does", () => {
    expect(results.steps["format"]).toBe('on iface_down wifi then log "wifi down"');
  });

  it("goes to an interface's declaration in the other file of the policy", () => {
    expect(results.steps["definition"]).toEqual({ file: "10-interfaces.policy", line: 3, col: 10 });
  });

  it("renames the interface across both files, and the policy still checks clean", () => {
    const renamed = results.steps["rename"] as { interfaces: string[]; rules: string[] };
    expect(renamed.interfaces[2]).toBe('interface cellular = "wwan0", "usb*"');
    expect(renamed.rules).toEqual([
      'on iface_down wifi then log "wifi down"',
      "on subflow_closed if iface wifi then create via cellular",
      'on iface_up wifi then set cellular backup, log "wifi is back"',
    ]);
    expect(results.steps["after rename"]).toEqual({ "10-interfaces.policy": 0, "20-rules.policy": 0 });
  });
});
