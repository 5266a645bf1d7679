// The generated man pages and bash completion against the CLI itself: every command's
// `--help` appears word for word in mptcp-policy(8), every flag of the command table is
// there and completes, and mptcp-policy.policy(5) names every word of the language.
// Pages are rendered by Debian's man (man-db, groff); completion runs in Debian's bash.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENDPOINT_FLAGS, EVENTS, KEYWORDS, LIMIT_NAMES, METRICS, UNITS } from "../language/vocabulary.js";
import { COMMANDS } from "../runtime/cli/main.js";
import { optionFlags } from "../runtime/cli/manual.js";
import { OPTION_VALUES, packagingFiles } from "../runtime/cli/packaging-files.js";
import { buildCli, ROOT, runCli } from "./helpers.js";

let work: string;
let page8: string;
let page5: string;
let completion: string;

/** man's rendering as plain text, and its warnings (lintian fails a page on any). */
function render(page: string, width = 100): { text: string; warnings: string } {
  const result = spawnSync("man", ["--warnings", "-l", page], {
    encoding: "utf8",
    env: { ...process.env, MANWIDTH: String(width), LANG: "C.UTF-8", MANPAGER: "cat", PAGER: "cat" },
  });
  expect(result.status, result.stderr).toBe(0);
  return { text: result.stdout.replace(/[\u2010\u2212]/g, "-").replace(/[\u2018\u2019]/g, "'"), warnings: result.stderr };
}

const words = (text: string) => text.split(/\s+/).filter((w) => w !== "");

/** The rendered text of one command's subsection of mptcp-policy(8). */
function commandSection(text: string, name: string): string {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l === `   ${name}`);
  expect(start, `no subsection for ${name}`).toBeGreaterThan(0);
  const end = lines.findIndex((l, n) => n > start && (/^ {3}\S+$/.test(l) || /^\S/.test(l)));
  return lines.slice(start + 1, end).join("\n");
}

/** Runs the completion function on a command line (the last word is being completed). */
function complete(line: string[], cwd = work): string[] {
  const script = `source ${JSON.stringify(completion)}
COMP_WORDS=(${line.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1))
_mptcp_policy
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const result = spawnSync("bash", ["--norc", "-c", script], { cwd, encoding: "utf8" });
  expect(result.stderr).toBe("");
  return result.stdout
    .split("\n")
    .filter((l) => l !== "")
    .sort();
}

beforeAll(() => {
  buildCli();
  work = mkdtempSync(join(tmpdir(), "mptcp-policy-manual-"));
  for (const file of packagingFiles(readFileSync(join(ROOT, "docs/language.md"), "utf8"), "2026-01-01")) {
    mkdirSync(join(work, file.path, ".."), { recursive: true });
    writeFileSync(join(work, file.path), file.text);
  }
  page8 = join(work, "usr/share/man/man8/mptcp-policy.8");
  page5 = join(work, "usr/share/man/man5/mptcp-policy.policy.5");
  completion = join(work, "usr/share/bash-completion/completions/mptcp-policy");
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("mptcp-policy(8)", () => {
  it("renders without a warning from man at any width", () => {
    for (const width of [60, 80, 200]) expect(render(page8, width).warnings).toBe("");
  });

  it("has a subsection for every command 'mptcp-policy --help' lists", () => {
    const help = runCli(["--help"]).stdout;
    const listed = [...help.matchAll(/^ {2}([a-z][\w-]*) {3}/gm)].map((m) => m[1]!);
    expect(listed).toEqual([...COMMANDS.keys()]);
    const { text } = render(page8);
    for (const name of listed) expect(commandSection(text, name)).not.toBe("");
  });

  for (const command of COMMANDS.values()) {
    it(`holds '${command.name} --help' word for word, and every flag of ${command.name}`, () => {
      const help = runCli([command.name, "--help"]);
      expect(help.status).toBe(0);
      const section = commandSection(render(page8).text, command.name);
      const expected = words(help.stdout.replace(/^Usage:/, "")).join(" ");
      expect(words(section).join(" ")).toContain(expected);
      for (const flag of optionFlags(command)) expect(words(section.replace(/[,.]/g, " "))).toContain(flag);
    });
  }

  it("has the sections an administrator looks for", () => {
    const { text } = render(page8);
    for (const heading of ["NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "EXIT STATUS", "FILES", "ENVIRONMENT", "SIGNALS", "EXAMPLES", "SEE ALSO"]) {
      expect(text).toMatch(new RegExp(`^${heading}$`, "m"));
    }
    for (const signal of ["SIGHUP", "SIGTERM"]) expect(text).toContain(signal);
  });
});

describe("mptcp-policy.policy(5)", () => {
  it("renders without a warning from man at any width", () => {
    for (const width of [60, 80, 200]) expect(render(page5, width).warnings).toBe("");
  });

  it("names every reserved word, event, endpoint flag, limit, metric and unit of the language", () => {
    const found = new Set(words(render(page5).text.replace(/[^\w]+/g, " ")));
    const vocabulary = [
      ...KEYWORDS,
      ...EVENTS.map((e) => e.name),
      ...ENDPOINT_FLAGS.map((f) => f.name),
      ...LIMIT_NAMES.map((l) => l.name),
      ...METRICS.map((m) => m.name),
      ...UNITS.map((u) => u.name),
    ];
    expect(vocabulary.filter((w) => !found.has(w))).toEqual([]);
  });

  it("holds every statement and diagnostic section of docs/language.md, and leaves the command line to page 8", () => {
    const markdown = readFileSync(join(ROOT, "docs/language.md"), "utf8");
    const { text } = render(page5);
    const commandLine = markdown.slice(markdown.indexOf("## 10. The command line"), markdown.indexOf("## 11."));
    const subsections = [...markdown.matchAll(/^### (.*)$/gm)].map((m) => m[1]!).filter((title) => !commandLine.includes(`### ${title}\n`));
    const headings = new Set(
      text
        .split("\n")
        .filter((l) => /^ {3}\S/.test(l))
        .map((l) => l.trim()),
    );
    expect(subsections.map((title) => title.replace(/`/g, "")).filter((title) => !headings.has(title))).toEqual([]);
    expect(text).not.toMatch(/^THE COMMAND LINE$/m);
  });
});

describe("bash completion", () => {
  it("is valid bash and registers for mptcp-policy", () => {
    const result = spawnSync("bash", ["--norc", "-c", `source ${JSON.stringify(completion)} && complete -p mptcp-policy`], { encoding: "utf8" });
    expect(result.stdout.trim()).toBe("complete -F _mptcp_policy mptcp-policy");
  });

  it("completes every command of the table", () => {
    expect(complete(["mptcp-policy", ""])).toEqual([...COMMANDS.keys(), "--help", "--version"].sort());
    expect(complete(["mptcp-policy", "ch"])).toEqual(["check"]);
  });

  for (const command of COMMANDS.values()) {
    it(`completes the flags of ${command.name}, and the values of its --format`, () => {
      expect(complete(["mptcp-policy", command.name, "-"])).toEqual(optionFlags(command).sort());
      if ("format" in command.options) {
        expect(complete(["mptcp-policy", command.name, "--format", ""])).toEqual(["json", "text"]);
        expect(complete(["mptcp-policy", command.name, "--format", "=", "j"])).toEqual(["json"]);
      }
    });
  }

  it("completes the values the CLI checks against", () => {
    expect(complete(["mptcp-policy", "compile", "--emit", ""])).toEqual([...OPTION_VALUES["emit"]!].sort());
    expect(complete(["mptcp-policy", "run", "--log-level", "w"])).toEqual(["warn"]);
    expect(complete(["mptcp-policy", "run", "--scheduler-fallback", ""])).toEqual(["approximate", "off"]);
    expect(complete(["mptcp-policy", "simulate", "p.policy", "--engine", ""])).toEqual(["bpf", "reference"]);
  });

  it("completes policy files and directories where a command takes PATH, and nothing where it does not", () => {
    const dir = mkdtempSync(join(work, "paths-"));
    mkdirSync(join(dir, "policies"));
    writeFileSync(join(dir, "home.policy"), "");
    writeFileSync(join(dir, "notes.txt"), "");
    expect(complete(["mptcp-policy", "check", ""], dir)).toEqual(["home.policy", "policies"]);
    expect(complete(["mptcp-policy", "explain", "h"], dir)).toEqual(["home.policy"]);
    expect(complete(["mptcp-policy", "simulate", "home.policy", "--events", "n"], dir)).toEqual(["notes.txt"]);
    expect(complete(["mptcp-policy", "status", ""], dir)).toEqual([]);
  });
});
