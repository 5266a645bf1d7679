// language/ and compiler/ run in the browser (the playground): they may import
// nothing from Node. This reads every import they make, transitively included.
import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers.js";

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => join(e.parentPath, e.name));
}

const NODE_MODULES = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

describe("browser-safe core", () => {
  for (const dir of ["language", "compiler"]) {
    it(`${dir}/ imports no Node module and no runtime/ code`, () => {
      const offenders: string[] = [];
      for (const file of sources(dir)) {
        const text = readFileSync(file, "utf8");
        for (const match of text.matchAll(/^\s*(?:import|export)\b[^;]*?from\s+["']([^"']+)["']/gms)) {
          const specifier = match[1] ?? "";
          if (NODE_MODULES.has(specifier) || specifier.includes("/runtime/") || specifier.startsWith("../runtime")) offenders.push(`${file}: ${specifier}`);
        }
        if (/\bprocess\.|\brequire\(/.test(text)) offenders.push(`${file}: uses process or require`);
      }
      expect(offenders).toEqual([]);
    });
  }
});
