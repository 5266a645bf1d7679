// The struct_ops objects: every example and some awkward policies compile cleanly with
// clang -Wall -Werror, and carry a .struct_ops section with one mptcp_sched_ops per
// scheduler block, named after it (and the dispatcher when the policy needs one).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { PolicyModel } from "../compiler/model.js";
import { compilePolicy } from "../compiler/pipeline.js";
import { structOpsVariable } from "../compiler/scheduler/emit.js";
import { readBtfNames } from "../runtime/bpf/btf.js";
import { buildPolicy } from "../runtime/bpf/toolchain.js";
import { clangUnavailable, hasTool } from "./bpf-support.js";
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
  const examples = readdirSync(join(ROOT, "examples"), { withFileTypes: true }).filter((e) => e.isDirectory());
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
    });
  }

  it("awkward names and tautological conditions still compile cleanly (regressions)", () => {
    // Found by the random differential test: 'rtt != 5000s' on a 32-bit field, and
    // 'subflows > 3 or subflows <= 7', made clang -Werror fail.
    const model = policy(
      "awkward.policy",
      'interface int = "eth0"\n' +
        "scheduler int for local port <= 65535 {\n  use where iface int and rtt != 5000s and lost >= 0\n  redundant where subflows > 3 or subflows <= 7\n  use any\n}\n" +
        "scheduler _x {\n  round_robin where not (cwnd < 0 or pacing >= 0kbit)\n  use any\n}\n",
    );
    const built = build(model);
    expect(structOpsVariable("int")).toBe("mpp_ops_int");
    expect(structOps(built.structOps).section).toContain("int\0");
  });
});
