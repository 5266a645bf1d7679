// The struct_ops objects: every example and some awkward policies compile cleanly with
// clang -Wall -Werror, and carry a .struct_ops section with one mptcp_sched_ops per
// scheduler block, named after it (and the dispatcher when the policy needs one).
import fc from "fast-check";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { PolicyModel } from "../compiler/model.js";
import { compilePolicy } from "../compiler/pipeline.js";
import { interfaceMatcher } from "../compiler/interfaces.js";
import { decideSchedule } from "../compiler/scheduler/evaluate.js";
import { needsDispatcher, structOpsNames } from "../compiler/scheduler/emit.js";
import { BpfEngine } from "../runtime/bpf/engine.js";
import { readBtfNames } from "../runtime/bpf/btf.js";
import { HOOK_REQUIREMENTS } from "../runtime/bpf/hook.js";
import { buildPolicy } from "../runtime/bpf/toolchain.js";
import { bpfUnavailable, clangUnavailable, hasTool } from "./bpf-support.js";
import { snapshotArbitrary } from "./scheduler-arbitraries.js";
import { ROOT } from "./helpers.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function build(model: PolicyModel) {
  const dir = mkdtempSync(join(tmpdir(), "mptcp-policy-build-"));
  dirs.push(dir);
  return buildPolicy(model, dir);
}

const OBJDUMP = ["llvm-objdump-19", "llvm-objdump"].find(hasTool);
const OBJCOPY = ["llvm-objcopy-19", "llvm-objcopy"].find(hasTool);

function sections(object: string): string[] {
  const out = spawnSync(OBJDUMP ?? "llvm-objdump", ["-h", object], { encoding: "utf8" }).stdout;
  return [...out.matchAll(/^\s*\d+\s+(\S+)/gm)].map((m) => m[1] as string);
}

/** The kfuncs an object calls: the extern functions of its BTF. */
function kfuncs(object: string): ReadonlySet<string> {
  const btf = join(object + ".kfuncs.btf");
  spawnSync(OBJCOPY ?? "llvm-objcopy", ["--dump-section", `.BTF=${btf}`, object]);
  return readBtfNames(readFileSync(btf)).externs;
}

/** Names of the .BTF section's variables and the scheduler names in .struct_ops. */
function structOps(object: string): { variables: string[]; section: string } {
  const btf = join(object + ".btf");
  spawnSync(OBJCOPY ?? "llvm-objcopy", ["--dump-section", `.BTF=${btf}`, object]);
  const section = join(object + ".struct_ops");
  spawnSync(OBJCOPY ?? "llvm-objcopy", ["--dump-section", `.struct_ops=${section}`, object]);
  const names = readBtfNames(readFileSync(btf));
  return { variables: [...names.structs], section: readFileSync(section).toString("latin1") };
}

function policy(name: string, text: string): PolicyModel {
  const { model, diagnostics } = compilePolicy([{ name, text }]);
  if (!model) throw new Error(diagnostics.map((d) => d.message).join("\n"));
  return model;
}

describe.skipIf(clangUnavailable())("struct_ops objects (clang -Wall -Werror)", () => {
  // The policy examples: directories with .policy files (examples/ansible is a playbook).
  const examples = readdirSync(join(ROOT, "examples"), { withFileTypes: true }).filter(
    (e) => e.isDirectory() && readdirSync(join(ROOT, "examples", e.name)).some((f) => f.endsWith(".policy")),
  );
  for (const example of examples) {
    it(`example ${example.name}`, () => {
      const dir = join(ROOT, "examples", example.name);
      const { model } = compilePolicy(
        readdirSync(dir)
          .filter((f) => f.endsWith(".policy"))
          .map((f) => ({ name: f, text: readFileSync(join(dir, f), "utf8") })),
      );
      if (!model) throw new Error("does not check");
      const built = build(model);
      expect(sections(built.structOps)).toContain(".struct_ops");
      expect(sections(built.test)).toContain("xdp");
      const { variables, section } = structOps(built.structOps);
      expect(variables).toContain("mptcp_sched_ops");
      // Each scheduler's name is in the .struct_ops data (its char name[16]).
      for (const s of model.schedulers) expect(section).toContain(`${s.name}\0`);
      if (model.schedulers.length > 1) expect(section).toContain("mptcp_policy\0");
      // A get_send and a get_retrans program per scheduler (and the dispatcher).
      const names = [...model.schedulers.map((s) => s.name), ...(needsDispatcher(model) ? ["mptcp_policy"] : [])];
      for (const n of names)
        expect(sections(built.structOps)).toEqual(expect.arrayContaining([`struct_ops/${structOpsNames(n).send}`, `struct_ops/${structOpsNames(n).retrans}`]));
      // What hook detection requires is what the object calls, and the other way round.
      expect([...kfuncs(built.structOps)].sort()).toEqual([...HOOK_REQUIREMENTS.kfuncs].sort());
    });
  }

  it("tautological conditions still compile cleanly (regression)", () => {
    // Found by the random differential test: 'rtt != 5000s' on a 32-bit field, and
    // 'subflows > 3 or subflows <= 7', made clang -Werror fail.
    const model = policy(
      "awkward.policy",
      'interface eth = "eth0"\n' +
        "scheduler s for local port <= 65535 {\n  use where iface eth and rtt != 5000s and lost >= 0\n  redundant where subflows > 3 or subflows <= 7\n  use any\n}\n",
    );
    expect(structOps(build(model).structOps).section).toContain("s\0");
  });

  // Every shape of valid name that could clash with something in C: keywords, libc and
  // libbpf names, `main`, our own helpers, locals and parameters of the generated code,
  // names that already carry one of our prefixes, the longest allowed, and `_`.
  const CLASHING = [
    ...["main", "printf", "memcpy", "malloc", "exit", "errno", "stdin", "abort", "strlen", "int", "char", "long", "void", "return"],
    ...["switch", "case", "do", "while", "else", "goto", "static", "struct", "union", "sizeof", "typeof", "asm", "inline", "restrict"],
    ...["bool", "true", "false", "_bool", "_license", "license", "null", "nullptr", "static_assert", "alignof", "__attribute__", "_"],
    ...["bpf_tail_call", "bpf_redirect", "sec", "sock", "tcp_sock", "mptcp_sock", "mptcp_sched_ops", "xdp_md", "in6_addr"],
    ...["mpp_select", "mpp_run", "mpp_decide", "mpp_always", "mpp_state", "mpp_iface", "mpp_get_send", "mpp_found", "mpp_begin"],
    ...["mpp_sched__a", "mpp_ops__b", "mpp_ops_policy", "mpp_send__c", "mpp_send_policy", "mpp_where1__d", "mpp_for__e", "mpp_test"],
    ...["c", "s", "r", "snap", "msk", "s_", "i_", "found_", "best_", "iter_", "init_", "index", "sk", "subflow", "n", "total"],
    ...["fifteen_chars_x", "___", "u8", "__u32", "__always_inline", "bpf_printk", "bpf_ntohl"],
  ];

  it("names that clash with C are rejected by check only for case (regression: 'scheduler main' passed check, failed build)", () => {
    for (const bad of ["Main", "PRINTF", "Int"]) {
      const { diagnostics } = compilePolicy([{ name: "case.policy", text: `scheduler ${bad} { use any }\n` }]);
      expect(diagnostics.map((d) => d.code)).toEqual(["E103"]);
    }
    for (const name of CLASHING) {
      const { diagnostics } = compilePolicy([
        { name: "n.policy", text: `interface ${name} = "eth0"\nscheduler ${name} for remote port 1 {\n  use where iface ${name}\n}\n` },
      ]);
      expect(diagnostics, name).toEqual([]);
    }
  });

  // One interface and one scheduler per name, each scheduler with a `for` and a `where`,
  // so every kind of generated identifier is made from every name; 12 blocks per object.
  const groups = Array.from({ length: Math.ceil(CLASHING.length / 12) }, (_, g) => CLASHING.slice(g * 12, g * 12 + 12));
  const clashingPolicy = (names: readonly string[]) =>
    names.map((n) => `interface ${n} = "${n.slice(0, 15)}"\n`).join("") +
    names.map((n, i) => `scheduler ${n} for remote port ${i + 1} {\n  use where iface ${n}\n  round_robin where not iface ${n}\n  use any\n}\n`).join("");

  for (const [g, names] of groups.entries()) {
    it(`clashing names build, group ${g + 1}: ${names.join(" ")}`, () => {
      const model = policy("clash.policy", clashingPolicy(names));
      const built = build(model);
      const { variables, section } = structOps(built.structOps);
      expect(variables).toContain("mptcp_sched_ops");
      for (const n of names) expect(section).toContain(`\0${n}\0`);
      const c = readFileSync(join(built.dir, "sched.bpf.c"), "utf8");
      for (const n of names) expect(c).toContain(`struct mptcp_sched_ops ${structOpsNames(n).variable} = {`);
    });
  }

  it.skipIf(bpfUnavailable())("clashing names decide as the reference evaluator does, in this kernel", () => {
    const model = policy("clash.policy", clashingPolicy(groups[0] ?? []));
    const engine = new BpfEngine(model);
    try {
      const inputs = fc.sample(snapshotArbitrary(model), { numRuns: 300, seed: 11 });
      const match = interfaceMatcher(model);
      expect(engine.run(inputs)).toEqual(inputs.map((x) => decideSchedule(model, x.snapshot, match, x.turn, x.purpose)));
    } finally {
      engine.close();
    }
  });
});
