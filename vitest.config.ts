import { existsSync } from "node:fs";
import { BaseSequencer, type TestSpecification } from "vitest/node";
import { defineConfig } from "vitest/config";

/**
 * Files that take a minute or more on a 2-core machine (measured in CI; BENCHMARKS.md, "Test suite").
 * On a fresh machine vitest knows no durations and starts the largest files first, which left the
 * longest ones to begin near the end and run alone; starting them first lets the short files fill
 * the other worker, so both finish together.
 */
const LONGEST_FIRST = [
  "test/training/real-tokenizer-learning.test.ts",
  "test/training/real-tokenizer.test.ts",
  "test/training/learning.test.ts",
  "test/training/resume.test.ts",
  "test/sdk/examples.test.ts",
  "test/studies/study-example.test.ts",
  "test/training/lookup-model-reproducible.test.ts",
  "test/cli/model-lookup.test.ts",
];

for (const file of LONGEST_FIRST)
  if (!existsSync(new URL(file, import.meta.url))) throw new Error(`vitest.config.ts: LONGEST_FIRST names ${file}, which is gone`);

class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = LONGEST_FIRST.findIndex((name) => f.moduleId.endsWith(name));
      return i < 0 ? LONGEST_FIRST.length : i;
    };
    return sorted
      .map((f, i) => ({ f, i }))
      .sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i)
      .map(({ f }) => f);
  }
}

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
    sequence: { sequencer: LongestFirstSequencer },
  },
});
