// Run files in examples/ that need a GPU and a real model to run are at least valid run files, with
// the settings their comments promise.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../server/main.js";
import { parseRunDefinition } from "../../cli/support/run-file.js";

const DATASET_ID = "6f1c2b8e-1d2a-4c3b-9e8f-0a1b2c3d4e5f";

describe("examples/qwen2.5-3b-instruct-paper.yaml", () => {
  const file = "examples/qwen2.5-3b-instruct-paper.yaml";
  const text = readFileSync(path.join(PROJECT_ROOT, file), "utf8").replace("${DATASET_ID}", DATASET_ID);

  it("is a valid run file with the paper's curriculum, group size, batch and rollout settings", () => {
    const { config } = parseRunDefinition(text, file).definition;
    expect(config.dataset.id).toBe(DATASET_ID);
    expect(config.curriculum?.stages.map((s) => [s.shots, s.steps])).toEqual([
      [3, 100],
      [2, 100],
      [0, 100],
    ]);
    expect(config.grpo).toMatchObject({
      groupSize: 8,
      questionsPerStep: 64,
      clipEps: 0.2,
      klCoef: 0.001,
      entropyCoef: 0.001,
      gradClip: 1,
      epochs: 1,
    });
    expect(config.rollout).toMatchObject({ temperature: 1, maxToolTurns: 6 });
    expect(config.tools.search).toMatchObject({ kind: "retriever", topK: 3, maxTokens: 500 });
    expect(config.reward).toMatchObject({ metric: "em", accuracyWeight: 0.8, formatWeight: 0.2 });
    // README's GPU section: a real model's learner keeps bfloat16 weights and recomputes activations.
    expect(config.learner).toEqual({ device: "cuda", dtype: "bfloat16", gradientCheckpointing: true });
  });
});
