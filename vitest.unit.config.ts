import { defineConfig } from "vitest/config";

// The fast lane (`npm run test:unit`): tests that need no Postgres, llama.cpp, torch, sandbox or
// Chromium, for the edit-test loop. `npm test` runs everything, these included.
export default defineConfig({
  test: {
    include: [
      "test/architecture/**/*.test.ts",
      "test/bench/wilson.test.ts",
      "test/contracts/**/*.test.ts",
      "test/dashboard/series.test.ts",
      "test/dashboard/study-data.test.ts",
      "test/engine/derive-seed.test.ts",
      "test/engine/gguf.test.ts",
      "test/icrl/advantages.test.ts",
      "test/icrl/curriculum.test.ts",
      "test/icrl/prompt.test.ts",
      "test/icrl/rollout-record.test.ts",
      "test/scoring/format-reward.test.ts",
      "test/scoring/math.test.ts",
      "test/scoring/qa.test.ts",
      "test/scoring/real-data.test.ts",
      "test/sdk/stale-socket.test.ts",
      "test/tools/retriever-client.test.ts",
      "test/tools/search-bm25.test.ts",
      "test/worker/allowed-paths-resolve.test.ts",
      "test/worker/eval-batch.test.ts",
      "test/worker/outbox.test.ts",
    ],
    testTimeout: 60_000,
    maxWorkers: 2,
  },
});
