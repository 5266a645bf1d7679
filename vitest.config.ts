import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    pool: "forks",
    // The CLI bundle, built once for every file (test/global-build.ts).
    globalSetup: ["test/global-build.ts"],
  },
});
