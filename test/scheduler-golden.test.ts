// Golden files pin the generated C of every example (sched_core.h, sched.bpf.c): small,
// deterministic and read in review. A mismatch writes NAME.got next to the golden file;
// UPDATE_GOLDEN=1 rewrites them. Behaviour is the differential tests' job, not this one's.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compilePolicy } from "../compiler/pipeline.js";
import { CORE_FILE, emitBpf, STRUCT_OPS_FILE } from "../compiler/scheduler/emit.js";
import { ROOT } from "./helpers.js";

const EXAMPLES = join(ROOT, "examples");
const GOLDEN = join(ROOT, "test", "golden");

describe("generated C of the examples (golden files in test/golden/)", () => {
  for (const example of readdirSync(EXAMPLES, { withFileTypes: true }).filter((e) => e.isDirectory())) {
    const files = readdirSync(join(EXAMPLES, example.name)).filter((f) => f.endsWith(".policy"));
    if (files.length === 0) continue;
    it(example.name, () => {
      const { model } = compilePolicy(
        files.map((f) => ({ name: `examples/${example.name}/${f}`, text: readFileSync(join(EXAMPLES, example.name, f), "utf8") })),
      );
      if (!model) throw new Error(`${example.name} does not check`);
      const emitted = emitBpf(model);
      for (const name of [CORE_FILE, STRUCT_OPS_FILE]) {
        const text = emitted.find((f) => f.name === name)?.text ?? "";
        const golden = join(GOLDEN, example.name, name);
        if (process.env["UPDATE_GOLDEN"] || !existsSync(golden)) {
          mkdirSync(join(GOLDEN, example.name), { recursive: true });
          writeFileSync(golden, text);
        }
        const expected = readFileSync(golden, "utf8");
        if (text !== expected) writeFileSync(`${golden}.got`, text);
        else rmSync(`${golden}.got`, { force: true });
        expect(text, `${golden} differs: see ${golden}.got (UPDATE_GOLDEN=1 to accept)`).toBe(expected);
      }
    });
  }
});
