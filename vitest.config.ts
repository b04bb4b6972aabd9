import { defineConfig } from "vitest/config";

// Tests start real Postgres, real HTTP servers and real llama.cpp contexts: a 2-core machine needs
// generous timeouts and few test files in parallel.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["**/node_modules/**"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    maxWorkers: 2,
    fileParallelism: true,
    reporters: ["default"],
  },
});
