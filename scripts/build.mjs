// Bundles the CLI into one ES module, so start-up reads one file instead of
// resolving hundreds of modules (the CLI must start within 3x of `node -e 0`).
import { build } from "esbuild";

await build({
  entryPoints: { "mptcp-policy": "runtime/cli/main.ts" },
  outdir: "dist",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  minify: true,
  sourcemap: "linked",
  legalComments: "linked",
  logLevel: "warning",
});
