// Records real kernel messages for the codec tests (run as root):
// bundles test/lab/record-fixtures.ts with esbuild and runs it.
import { build } from "esbuild";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const dir = mkdtempSync(join(tmpdir(), "record-netlink-"));
const outfile = join(dir, "record.mjs");
try {
  await build({
    entryPoints: ["test/lab/record-fixtures.ts"],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    external: ["netlink"],
    logLevel: "warning",
    define: { "import.meta.url": JSON.stringify(pathToFileURL(join(process.cwd(), "test/lab/record-fixtures.ts")).href) },
  });
  await import(pathToFileURL(outfile).href);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
