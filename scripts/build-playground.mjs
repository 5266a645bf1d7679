// Builds the web playground (editor/) into dist/playground/: static files that any web
// server can host, or `mptcp-policy playground` serves. Three entry points share
// chunks (ES modules, code splitting): the page, Monaco's editor worker, and the
// check worker that runs language/ and compiler/ off the main thread. The bundled
// examples are read here, at build time, from examples/*/*.policy.
//
// Usage: node scripts/build-playground.mjs [--dev] [--outdir DIR]
//   --dev: no minification; --outdir: somewhere else than dist/playground/
// Run by `npm run build` (and so by scripts/setup.sh) and `npm run build:playground`.
import { cpSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** `virtual:examples`: every example directory with its *.policy files, read now. */
function examplesPlugin() {
  return {
    name: "examples",
    setup(b) {
      b.onResolve({ filter: /^virtual:examples$/ }, () => ({ path: "examples", namespace: "examples" }));
      b.onLoad({ filter: /.*/, namespace: "examples" }, () => {
        const dir = join(ROOT, "examples");
        const examples = readdirSync(dir)
          .filter((name) => statSync(join(dir, name)).isDirectory())
          .sort()
          .map((name) => ({
            name,
            files: readdirSync(join(dir, name))
              .filter((f) => f.endsWith(".policy"))
              .sort()
              .map((f) => ({ name: f, text: readFileSync(join(dir, name, f), "utf8") })),
          }))
          .filter((e) => e.files.length > 0);
        return {
          contents: `export const EXAMPLES = ${JSON.stringify(examples)};`,
          loader: "js",
          watchDirs: [dir],
          watchFiles: examples.flatMap((e) => e.files.map((f) => join(dir, e.name, f.name))),
        };
      });
    },
  };
}

export async function buildPlayground({ dev = false, outdir = join(ROOT, "dist", "playground") } = {}) {
  // Built next to its place and swapped in, so a server (or another build) never sees
  // half a playground.
  const staging = `${outdir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: {
      playground: "editor/main.ts",
      "check.worker": "editor/check-worker.ts",
      "editor.worker": "monaco-editor/editor/editor.worker.js",
    },
    outdir: staging,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "browser",
    target: ["chrome110", "firefox115", "safari16.4"],
    minify: !dev,
    // The grammar is checked by the sources' tests, not at every page load (language/grammar-validation.ts).
    define: { MPTCP_POLICY_BUNDLED: "true" },
    sourcemap: "linked",
    legalComments: "linked",
    chunkNames: "chunks/[name]-[hash]",
    assetNames: "assets/[name]-[hash]",
    loader: { ".ttf": "file" },
    plugins: [examplesPlugin()],
    metafile: true,
    logLevel: "warning",
  });
  cpSync(join(ROOT, "editor", "index.html"), join(staging, "index.html"));
  cpSync(join(ROOT, "editor", "favicon.svg"), join(staging, "favicon.svg"));
  rmSync(outdir, { recursive: true, force: true });
  renameSync(staging, outdir);
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const started = performance.now();
  const { values } = parseArgs({ options: { dev: { type: "boolean" }, outdir: { type: "string" } } });
  const outdir = resolve(values.outdir ?? join(ROOT, "dist", "playground"));
  const result = await buildPlayground({ dev: values.dev === true, outdir });
  const bytes = Object.entries(result.metafile.outputs)
    .filter(([file]) => !file.endsWith(".map"))
    .reduce((sum, [, output]) => sum + output.bytes, 0);
  console.log(`playground: ${relative(ROOT, outdir)}/ (${(bytes / 1024 / 1024).toFixed(1)} MB) in ${Math.round(performance.now() - started)} ms`);
}
