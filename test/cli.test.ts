// The CLI contract: commands, exit codes, JSON shape, directories as one policy,
// fmt's refusals, and never a stack trace.
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCli, ROOT, runCli, withoutCapabilities } from "./helpers.js";

let dir: string;
const GOOD = 'interface wifi = "wlan0"\ninterface lte = "wwan0"\nendpoint wifi subflow\non iface_down wifi then set lte active\n';
const BAD = 'interface wifi = "wlan0"\nendpoint wifi subflow\non established then create via wfi\n';
const WARN = 'interface wifi = "wlan0"\ninterface eth = "eth0"\nendpoint wifi subflow\n';

function write(name: string, text: string | Buffer): string {
  const path = join(dir, name);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
  return path;
}

beforeAll(() => {
  buildCli();
  dir = mkdtempSync(join(tmpdir(), "mptcp-policy-cli-"));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("check", () => {
  it("exits 0 and prints nothing for a clean policy", () => {
    const result = runCli(["check", write("good.policy", GOOD)]);
    expect(result).toMatchObject({ status: 0, stdout: "", stderr: "" });
  });

  it("exits 0 with warnings only, and prints them", () => {
    const result = runCli(["check", write("warn.policy", WARN)]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("warning[W602]");
  });

  it("exits 1 on errors, with file:line:col, the source line, a caret and a hint", () => {
    const path = write("bad.policy", BAD);
    const result = runCli(["check", path]);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain(`${path}:3:32: error[E100]: interface 'wfi' is not declared`);
    expect(result.stdout).toContain("  on established then create via wfi\n                                 ^^^");
    expect(result.stdout).toContain("hint: did you mean 'wifi'?");
    expect(result.stderr).toBe("1 error, 0 warnings in 1 file\n");
  });

  it("prints one JSON array with 1-based positions and nothing else on stdout", () => {
    const path = write("bad-json.policy", BAD);
    const result = runCli(["check", "--format", "json", path]);
    expect(result.status).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual([
      { file: path, line: 3, column: 32, endLine: 3, endColumn: 35, severity: "error", code: "E100", message: "interface 'wfi' is not declared", hint: expect.stringContaining("did you mean 'wifi'?") },
    ]);
    expect(runCli(["check", "--format=json", write("good2.policy", GOOD)]).stdout.trim()).toBe("[]");
  });

  it("treats a directory as one policy: names are global and each diagnostic names its file", () => {
    write("multi/10-interfaces.policy", 'interface wifi = "wlan0"\ninterface lte = "wwan0"\nendpoint lte subflow\n');
    write("multi/20-rules.policy", 'on iface_down wifi then set lte active\non iface_up wifi then create via wfi\n');
    const result = runCli(["check", "--format", "json", join(dir, "multi")]);
    expect(result.status).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject([{ file: join(dir, "multi/20-rules.policy"), line: 2, code: "E100" }]);
  });

  it("reports a duplicate across files with the file of each place", () => {
    write("dup/a.policy", 'interface wifi = "wlan0"\nendpoint wifi subflow\n');
    write("dup/b.policy", 'interface wifi = "wlan1"\n');
    const result = runCli(["check", join(dir, "dup")]);
    expect(result.stdout).toContain(`${join(dir, "dup/b.policy")}:1:11: error[E101]`);
    expect(result.stdout).toContain(`${join(dir, "dup/a.policy")}:1:11: note: first declared here`);
  });

  it("checks each subdirectory as its own policy when a directory has no policy files", () => {
    write("tree/one/a.policy", GOOD);
    write("tree/two/a.policy", GOOD);
    expect(runCli(["check", join(dir, "tree")])).toMatchObject({ status: 0, stdout: "" });
  });

  it("exits 2 with one line for a missing file, a non-UTF-8 file, an empty directory and bad usage", () => {
    const cases: [string[], RegExp][] = [
      [["check", join(dir, "missing.policy")], /^mptcp-policy: .*missing\.policy: no such file or directory\n$/],
      [["check", write("latin1.policy", Buffer.from("# caf\xe9\nlimits subflows 2\n", "latin1"))], /^mptcp-policy: .*latin1\.policy: not valid UTF-8 \(invalid byte sequence at line 1, column 6\)\n$/],
      [["check", (mkdirSync(join(dir, "empty")), join(dir, "empty"))], /^mptcp-policy: .*empty: no \*\.policy files in this directory\n$/],
      [["check"], /^mptcp-policy: check needs at least one PATH/],
      [["check", "--format", "xml", "x"], /^mptcp-policy: --format must be 'text' or 'json'/],
      [["check", "--bogus", "x"], /^mptcp-policy: check: Unknown option '--bogus'/],
      [["frobnicate"], /^mptcp-policy: unknown command 'frobnicate'/],
    ];
    for (const [args, stderr] of cases) {
      const result = runCli(args);
      expect(result.status, args.join(" ")).toBe(2);
      expect(result.stderr, args.join(" ")).toMatch(stderr);
      expect(result.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
    }
  });

  it("exits 2 for an unreadable file (as a non-root user)", () => {
    const path = write("secret.policy", GOOD);
    chmodSync(path, 0o000);
    const result = process.getuid?.() === 0 ? spawnWithoutCapabilities(path) : runCli(["check", path]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/secret\.policy: permission denied/);
  });

  it.skipIf(process.getuid?.() !== 0)("runs that case with no capability left, so root cannot read the file either", () => {
    const [command, ...options] = withoutCapabilities();
    const status = spawnSync(command as string, [...options, "cat", "/proc/self/status"], { encoding: "utf8" }).stdout;
    expect(status).toMatch(/^CapEff:\s+0+$/m);
    expect(status).toMatch(/^CapBnd:\s+0+$/m);
  });
});

/** As root every file is readable, so the permission case runs without capabilities. */
function spawnWithoutCapabilities(path: string) {
  // The directory is mkdtemp's (0700): open to the checkout's owner, should it not be root.
  chmodSync(dir, 0o755);
  const [command, ...options] = withoutCapabilities();
  const result = spawnSync(command as string, [...options, process.execPath, join(ROOT, "bin/mptcp-policy"), "check", path], { encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("fmt", () => {
  const MESSY = 'interface   wifi="wlan0"   # the Wi-Fi\n\n\n\nendpoint wifi    subflow\non iface_down wifi\n  then log "down"\n';
  const TIDY = 'interface wifi = "wlan0"  # the Wi-Fi\n\nendpoint wifi subflow\non iface_down wifi then log "down"\n';

  it("rewrites a file in place, keeps comments and its mode, and is idempotent", () => {
    const path = write("messy.policy", MESSY);
    chmodSync(path, 0o640);
    expect(runCli(["fmt", path])).toMatchObject({ status: 0, stdout: `${path}: formatted\n` });
    expect(readFileSync(path, "utf8")).toBe(TIDY);
    expect(statSync(path).mode & 0o777).toBe(0o640);
    expect(runCli(["fmt", path])).toMatchObject({ status: 0, stdout: "" });
    expect(readFileSync(path, "utf8")).toBe(TIDY);
  });

  it("--check changes nothing and exits 1 when a file is not formatted", () => {
    const path = write("messy2.policy", MESSY);
    expect(runCli(["fmt", "--check", path])).toMatchObject({ status: 1, stdout: `${path}: not formatted\n` });
    expect(readFileSync(path, "utf8")).toBe(MESSY);
    expect(runCli(["fmt", "--check", write("tidy.policy", TIDY)])).toMatchObject({ status: 0, stdout: "" });
  });

  it("refuses a file with syntax errors and leaves it untouched", () => {
    const broken = 'interface   wifi = "wlan0"\non established then\n';
    const path = write("broken.policy", broken);
    const result = runCli(["fmt", path]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("error[E003]");
    expect(result.stderr).toContain("not formatted: fix the syntax errors first");
    expect(readFileSync(path, "utf8")).toBe(broken);
  });
});

describe("compile", () => {
  it("prints the checked model as JSON, with base units and source positions", () => {
    const path = write("model.policy", `${GOOD}scheduler s { use where rtt < 150ms }\non subflow_closed if iface wifi then create via lte after 2s\n`);
    const result = runCli(["compile", "--emit", "model", path]);
    expect(result.status).toBe(0);
    const model = JSON.parse(result.stdout);
    expect(model.schedulers[0].steps[0]).toMatchObject({ mode: "use", where: { op: "metric", metric: "rtt", cmp: "<", value: 150000 }, order: { direction: "lowest", metric: "rtt" } });
    expect(model.rules[1]).toMatchObject({ event: "subflow_closed", actions: [{ op: "create", via: "lte", to: "remote", afterUs: 2000000, at: { file: path, line: 6 } }] });
  });

  it("refuses a policy with errors: diagnostics on stderr, exit 1, nothing on stdout", () => {
    const result = runCli(["compile", "--emit", "model", write("bad-compile.policy", BAD)]);
    expect(result).toMatchObject({ status: 1, stdout: "" });
    expect(result.stderr).toContain("error[E100]");
  });

  it("writes into -o DIR", () => {
    const out = join(dir, "out");
    expect(runCli(["compile", "--emit", "model", "-o", out, write("model2.policy", GOOD)]).status).toBe(0);
    expect(JSON.parse(readFileSync(join(out, "model.json"), "utf8")).interfaces).toHaveLength(2);
  });
});

describe("playground without a built playground", () => {
  it("names the command that builds it, in one line (exit 2)", () => {
    // The CLI alone, as a checkout looks before its playground is built.
    const cliOnly = join(dir, "cli-only");
    mkdirSync(join(cliOnly, "bin"), { recursive: true });
    mkdirSync(join(cliOnly, "dist"), { recursive: true });
    copyFileSync(join(ROOT, "bin", "mptcp-policy"), join(cliOnly, "bin", "mptcp-policy"));
    copyFileSync(join(ROOT, "dist", "mptcp-policy.js"), join(cliOnly, "dist", "mptcp-policy.js"));
    const result = spawnSync(process.execPath, [join(cliOnly, "bin", "mptcp-policy"), "playground", "--port", "0"], { encoding: "utf8", timeout: 10_000 });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe("mptcp-policy: the playground is not built: run 'npm run build' (or 'bash scripts/setup.sh') first\n");
  });

  it("and that command, as scripts/setup.sh runs it, builds the CLI and dist/playground/", () => {
    const scripts = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts;
    // No --outdir: the playground goes to dist/playground/, where the command looks.
    expect(scripts.build).toBe("node scripts/build.mjs && node scripts/build-playground.mjs");
    const setup = readFileSync(join(ROOT, "scripts", "setup.sh"), "utf8");
    expect(setup).toMatch(/^npm run --silent build$/m);
    expect(setup).not.toMatch(/build-playground|build\.mjs/);
  });
});

describe("help and version", () => {
  it("prints usage for --help and each command's --help, and the version", () => {
    expect(runCli(["--help"])).toMatchObject({ status: 0, stdout: expect.stringContaining("Commands:") });
    expect(runCli(["check", "--help"])).toMatchObject({ status: 0, stdout: expect.stringContaining("Usage: mptcp-policy check") });
    expect(runCli(["fmt", "-h"])).toMatchObject({ status: 0, stdout: expect.stringContaining("Usage: mptcp-policy fmt") });
    const version = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version;
    expect(runCli(["--version"])).toMatchObject({ status: 0, stdout: `mptcp-policy ${version}\n` });
  });

  it("prints no colour when output is not a terminal", () => {
    const result = runCli(["check", write("bad-colour.policy", BAD)]);
    expect(result.stdout).not.toContain("\x1b[");
  });
});
