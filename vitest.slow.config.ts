import { defineConfig } from "vitest/config";

// The slow lane (`npm run test:slow`): end-to-end learning checks that take longer than the whole CI
// suite may (see test/slow/README.md). They use the same real parts as every other test.
export default defineConfig({
  test: {
    include: ["test/slow/**/*.test.ts"],
    testTimeout: 1_800_000,
    hookTimeout: 1_800_000,
    maxWorkers: 1,
  },
});
