// Writes the generated man pages and bash completion under OUTDIR (default
// dist/packaging), at the paths the Debian package installs them:
//   node scripts/packaging-files.mjs [OUTDIR]
// The generator (runtime/cli/packaging-files.ts) is bundled on the fly with esbuild,
// so it stays out of the CLI bundle. The pages' date is SOURCE_DATE_EPOCH's, else the
// last commit's, so that a build is reproducible.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = resolve(import.meta.dirname, "..");
const outdir = resolve(process.argv[2] ?? join(root, "dist", "packaging"));

function pageDate() {
  const epoch = process.env.SOURCE_DATE_EPOCH ?? execFileSync("git", ["log", "-1", "--format=%ct"], { cwd: root, encoding: "utf8" }).trim();
  return new Date(Number(epoch) * 1000).toISOString().slice(0, 10);
}

const work = mkdtempSync(join(tmpdir(), "mptcp-policy-packaging-"));
try {
  const bundle = join(work, "packaging-files.mjs");
  await build({
    entryPoints: [join(root, "runtime/cli/packaging-files.ts")],
    outfile: bundle,
    bundle: true,
    platform: "node",
    format: "esm",
    logLevel: "warning",
    // Resolved from the checkout: the bundle sits in a temporary directory.
    nodePaths: [join(root, "node_modules")],
    external: ["netlink"],
    banner: { js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);' },
  });
  const { packagingFiles } = await import(pathToFileURL(bundle).href);
  for (const file of packagingFiles(readFileSync(join(root, "docs/language.md"), "utf8"), pageDate())) {
    const path = join(outdir, file.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.text);
    console.log(path);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
