// `mptcp for CONDITION` on the host: the grammar and its canonical layout, every misuse
// the checker reports, the pattern tables against picomatch (the interface globs), and
// the generated C compiled by clang with its data laid out as clang lays it out.
// What the kernel does with it is test/program-selection-lab.test.ts's job.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import picomatch from "picomatch/posix.js";
import { afterAll, describe, expect, it } from "vitest";
import { explainPolicy } from "../compiler/explain.js";
import type { PolicyModel } from "../compiler/model.js";
import { compilePolicy } from "../compiler/pipeline.js";
import { planPolicy } from "../compiler/plan.js";
import { emitProgramSelection, SOCKET_SOURCE_FILE } from "../compiler/programs/emit.js";
import { encodeSelection, patternTables, selectionSize, selectionSlots } from "../compiler/programs/layout.js";
import { formatFile } from "../language/formatter.js";
import { parseFile } from "../language/parse.js";
import { sourceFile } from "../language/source.js";
import { parseProgramPattern, programMatches } from "../language/program-pattern.js";
import { compileBpf, writeFiles } from "../runtime/bpf/toolchain.js";
import { cgroup2Mount, findCgroup } from "../runtime/bpf/cgroups.js";
import { completionsAt } from "../language/service/completion.js";
import { wordHelp } from "../language/vocabulary.js";
import { generateBpf } from "../editor/scheduler-support.js";
import { diagnose } from "./helpers.js";

function model(text: string): PolicyModel {
  const result = compilePolicy([{ name: "sel.policy", text }]);
  if (!result.model) throw new Error(JSON.stringify(result.diagnostics));
  return result.model;
}

describe("the statement", () => {
  it("parses, checks and formats to one canonical line", () => {
    const text = 'mptcp   for program "curl"  or (unit "nginx.service" and not user 0)\nmptcp for cgroup "/lab/selected" and family ipv4\n';
    expect(diagnose(text)).toEqual([]);
    expect(formatFile(parseFile(sourceFile("sel.policy", text)).tree)).toBe('mptcp for program "curl" or unit "nginx.service" and not user 0\nmptcp for cgroup "/lab/selected" and family ipv4\n');
  });

  it("keeps every statement, in order, in the model", () => {
    const m = model('mptcp for program "curl"\nmptcp for user 1000 or family ipv6\n');
    expect(m.selections?.map((s) => [s.at.line, s.condition.op])).toEqual([
      [1, "program"],
      [2, "or"],
    ]);
  });

  it("explains and plans the selection", () => {
    const m = model('mptcp for program "curl"\n');
    expect(explainPolicy(m)).toContain('sel.policy:1: the program is "curl".');
    expect(planPolicy(m).program_selection).toMatchObject({ hook: "fmod_ret/update_socket_protocol", data: { programs: ["curl"] } });
    expect(planPolicy(model('interface w = "wlan0"\nendpoint w subflow\n')).program_selection).toBeUndefined();
  });
});

describe("the language service (playground and lsp)", () => {
  const labels = (text: string) => completionsAt(text, { interfaces: [], schedulers: [] }).map((i) => i.label);

  it("completes the statement and the tests known at socket creation only", () => {
    expect(labels("mptcp ")).toEqual(["for"]);
    expect(labels("mptcp for ")).toEqual(["program", "unit", "cgroup", "user", "family", "not"]);
    expect(labels('mptcp for program "curl" ')).toEqual(["and", "or"]);
    expect(labels("mptcp for family ")).toEqual(["ipv4", "ipv6"]);
  });

  it("shows the socket hook's C in the playground's BPF tab, beside the schedulers'", () => {
    const only = generateBpf(model('mptcp for program "curl"\n'));
    expect(only.available && only.files.map((f) => [f.name, f.generated])).toEqual([
      [SOCKET_SOURCE_FILE, true],
      ["mptcp_policy_socket.h", false],
    ]);
    const both = generateBpf(model('mptcp for program "curl"\nscheduler s { use any }\n'));
    expect(both.available && both.files.slice(0, 3).map((f) => f.name)).toEqual(["sched.bpf.c", "sched_core.h", SOCKET_SOURCE_FILE]);
  });

  it("has hover text for every new word", () => {
    for (const word of ["mptcp", "program", "unit", "cgroup", "user"]) expect(wordHelp(word)).toMatch(/./);
  });
});

describe("misuse", () => {
  const first = (text: string) => diagnose(text)[0];

  it.each([
    ["remote port 443", "connect() names it later"],
    ["local in 10.0.0.0/8", "bind() or connect() gives it one later"],
    ["side client", "connect() or listen() decides later"],
    ["rtt < 5ms", "subflows, which exist only after the socket connects"],
    ["subflows > 1", "subflows, which exist only after the socket connects"],
  ])("'%s' is not known when a socket is created (E700)", (test, why) => {
    const d = first(`mptcp for program "curl" and ${test}`);
    expect(d?.code).toBe("E700");
    expect(d?.message).toContain(why);
    expect(d?.column).toBe(30);
  });

  it("a process test outside 'mptcp for' says where it belongs (E704)", () => {
    for (const text of ['on established if program "curl" then log "x"', 'scheduler s for user 0 { use any }', 'scheduler s { use where cgroup "/a" }']) {
      expect(first(text)?.code).toBe("E704");
    }
  });

  it.each([
    ["systemd-journald", "can never match"],
    ["", "cannot be empty"],
    ["a[bc", "never closed"],
    ["[z-a]", "backwards"],
  ])("program %j is refused (E701)", (name, words) => {
    const d = first(`mptcp for program "${name}"`);
    expect(d?.code).toBe("E701");
    expect(d?.message).toContain(words);
  });

  it("unit names need a type with a cgroup (E702), cgroup paths start at the root (E703), uids are 32-bit (E302)", () => {
    expect(first('mptcp for unit "nginx"')?.code).toBe("E702");
    expect(first('mptcp for unit "a b.service"')?.code).toBe("E702");
    expect(first('mptcp for unit "x.timer"')?.code).toBe("E702");
    expect(first('mptcp for cgroup "a/b"')?.code).toBe("E703");
    expect(first('mptcp for cgroup "/a/../b"')?.code).toBe("E703");
    expect(first('mptcp for cgroup "/a/"')?.code).toBe("E703");
    expect(first("mptcp for user 4294967295")?.code).toBe("E302");
    expect(first("mptcp for family ipv5")?.code).toBe("E210");
    expect(diagnose('mptcp for cgroup "/" or unit "user@1000.service" or user 4294967294')).toEqual([]);
  });

  it("a statement without a condition is a syntax error with its position", () => {
    expect(first("mptcp for")?.code).toBe("E003");
    expect(first('mptcp program "curl"')?.code).toBe("E003");
  });
});

describe("program patterns", () => {
  const patterns = ["curl", "c*", "*l", "py*[0-9]", "?url", "*", "a*b*c", "[!c]url", "[^c]url", "[^a-c]*", "**x**", "x?", "curl*", "[a-c][a-c]*"];
  const names = ["curl", "cur", "curlx", "python3", "python3.11", "py3", "c", "", "a", "abc", "axbyc", "xurl", "burl", "x", "xx", "aab", "zzz", "http-worker-12", "ab"];

  it("match as picomatch matches the same globs (the interface patterns' semantics)", () => {
    for (const pattern of patterns) {
      const parsed = parseProgramPattern(pattern);
      if ("problem" in parsed) throw new Error(parsed.problem);
      const expected = picomatch(pattern, { dot: true });
      for (const name of names.filter((n) => n !== "")) expect([pattern, name, programMatches(parsed.elements, name)]).toEqual([pattern, name, expected(name)]);
    }
  });

  it("state tables step as the C matcher steps, and agree with the reference", () => {
    const run = (pattern: string, name: string): boolean => {
      const parsed = parseProgramPattern(pattern);
      if ("problem" in parsed) throw new Error(parsed.problem);
      const t = patternTables(parsed.elements);
      let states = t.start;
      for (const c of new TextEncoder().encode(name).slice(0, 15)) {
        const next = (((states & (t.accepts[c] as number)) << 1) | (states & t.stars)) >>> 0;
        states = (next | ((next & t.stars) << 1)) >>> 0;
        if (states === 0) return false;
      }
      return (states & t.accept) !== 0;
    };
    for (const pattern of patterns) {
      const parsed = parseProgramPattern(pattern);
      if ("problem" in parsed) throw new Error(parsed.problem);
      for (const name of names) expect([pattern, name, run(pattern, name)]).toEqual([pattern, name, programMatches(parsed.elements, name)]);
    }
  });

  it("a name longer than 15 bytes is matched as the kernel keeps it", () => {
    const parsed = parseProgramPattern("http-worker-123");
    if ("problem" in parsed) throw new Error(parsed.problem);
    expect(programMatches(parsed.elements, "http-worker-1234")).toBe(true);
  });
});

describe("cgroups as the hook names them (this machine's cgroup v2 tree)", () => {
  const root = cgroup2Mount();
  const base = `/mpp-test-${process.pid}`;
  afterAll(() => {
    if (!root) return;
    for (const dir of [`${base}/app.slice/web.service`, `${base}/app.slice`, base]) rmSync(join(root, dir), { recursive: true, force: true });
  });

  it.skipIf(root === undefined)("finds a cgroup by path and a unit by name, with the directory's inode as id and its depth as level", () => {
    mkdirSync(join(root as string, base, "app.slice", "web.service"), { recursive: true });
    const byPath = findCgroup({ kind: "cgroup", path: `${base}/app.slice` }, root);
    expect(byPath).toEqual({ found: { path: `${base}/app.slice`, id: statSync(join(root as string, base, "app.slice"), { bigint: true }).ino, level: 2 } });
    expect(findCgroup({ kind: "unit", name: "web.service" }, root)).toMatchObject({ found: { path: `${base}/app.slice/web.service`, level: 3 } });
    expect(findCgroup({ kind: "unit", name: `absent-${process.pid}.service` }, root)).toEqual({ missing: `unit absent-${process.pid}.service has no cgroup (is it running?)` });
    expect(findCgroup({ kind: "cgroup", path: `${base}/nothing` }, root)).toEqual({ missing: `cgroup ${base}/nothing does not exist` });
    expect(findCgroup({ kind: "cgroup", path: "/" }, root)).toMatchObject({ found: { level: 0 } });
  });
});

describe("generated C", () => {
  const dir = mkdtempSync(join(tmpdir(), "mpp-programs-"));
  afterAll(() => (process.env["KEEP_BPF"] ? undefined : rmSync(dir, { recursive: true, force: true })));
  const hostile = String.raw`x\"); evil(\"`;
  const text = `mptcp for program "curl" or program "${hostile}" or (unit "nginx.service" and not user 0)\nmptcp for cgroup "/lab/selected" and family ipv4\nmptcp for user 1000 and program "py*"\n`;

  it("holds no name of the policy, only slots", () => {
    const c = emitProgramSelection(model(text)).find((f) => f.name === SOCKET_SOURCE_FILE)?.text ?? "";
    for (const name of ["curl", "evil(", "nginx", "/lab/selected", "1000", "py*"]) expect(c).not.toContain(name);
    expect(c).toContain("mpp_program(&mpp_selection.programs[1], t->comm)");
    expect(c).toContain("/* sel.policy:2 */");
  });

  it("compiles with clang -Werror, and its .rodata is the size the data is encoded to", () => {
    const m = model(text);
    writeFiles(dir, emitProgramSelection(m));
    const object = compileBpf(dir, SOCKET_SOURCE_FILE);
    const sections = spawnSync("llvm-readelf-19", ["-S", "-W", object], { encoding: "utf8" }).stdout;
    const rodata = sections.split("\n").find((l) => /\s\.rodata\s/.test(l));
    // [Nr] Name Type Address Off Size ...: the size is the fourth field after the name.
    const fields = rodata?.trim().split(/\s+/) ?? [];
    const size = Number.parseInt(fields[fields.indexOf(".rodata") + 4] ?? "", 16);
    const slots = selectionSlots(m);
    expect(size).toBe(selectionSize(slots));
    expect(encodeSelection(slots, { netns: 1, cgroups: [] }).length).toBe(size);
    expect(readFileSync(object).length).toBeGreaterThan(0);
  });
});
