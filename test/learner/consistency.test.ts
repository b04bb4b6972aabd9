// The learner and the engine must agree on the policy: log-probs of the same tokens from PyTorch (the
// learner) and llama.cpp (the engine, exact mode: flash attention off, F32 KV cache) within 1e-3 per
// token, before training and after a trained adapter is exported and hot-loaded.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadLlamaEngine } from "../../worker/engine/llama-engine.js";
import { writeTinyModel } from "../../worker/engine/tiny-model.js";
import { LearnerDriver, type TrainingSample } from "../../worker/learner/driver.js";
import { maxAbsDiff, seededTokens, tempDir, writeLearnerTinyModel } from "./helpers.js";

const TOLERANCE = 1e-3;
let dir: string;
let learner: LearnerDriver;

beforeAll(() => {
  dir = tempDir("icrl-learner-consistency-");
  learner = LearnerDriver.start();
});

afterAll(async () => {
  await learner.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

function trainingBatch(): TrainingSample[] {
  return [1, 2, 3, 4].map((seed, i) => {
    const tokens = seededTokens(40, seed);
    return { tokens, mask: tokens.map((_, j) => (j >= 20 ? 1 : 0)), advantage: i % 2 === 0 ? 1 : -1 };
  });
}

async function checkModel(modelPath: string, name: string): Promise<void> {
  await learner.init({ model_path: modelPath, lora: { rank: 8, alpha: 16 }, optim: { lr: 2e-2 }, device: "cpu", threads: 1 });
  const engine = await loadLlamaEngine({ modelPath, exact: true, threads: 2, gpu: false });
  try {
    const sequence = seededTokens(96, 11);
    const [base] = await learner.logprobs({ sequences: [sequence] });
    expect(maxAbsDiff(base, await engine.logProbs(sequence)), `${name} base`).toBeLessThan(TOLERANCE);

    for (let i = 0; i < 3; i++) await learner.step(trainingBatch());
    const [trained] = await learner.logprobs({ sequences: [sequence] });
    expect(maxAbsDiff(trained, base), `${name}: training must move the policy`).toBeGreaterThan(0.05);

    const adapter = await learner.exportAdapter(path.join(dir, `${name}-adapter-1.gguf`));
    await engine.setAdapter(adapter.path);
    expect(maxAbsDiff(trained, await engine.logProbs(sequence)), `${name} with adapter`).toBeLessThan(TOLERANCE);
  } finally {
    await engine.dispose();
  }
}

describe("learner vs engine log-probs", () => {
  it("agree for the engine's tiny llama model, before and after a trained adapter", async () => {
    const modelPath = path.join(dir, "engine-tiny.gguf");
    writeTinyModel({ out: modelPath, seed: 3 });
    await checkModel(modelPath, "llama");
  }, 240_000);

  it("agree for qwen2 (q/k/v biases, tied output) and qwen3 (per-head q/k norms, wider heads)", async () => {
    const qwen2 = writeLearnerTinyModel(path.join(dir, "qwen2.gguf"), {
      arch: "qwen2",
      dim: 96,
      heads: 6,
      kvHeads: 2,
      ff: 160,
      tiedEmbeddings: true,
      ropeFreqBase: 1e6,
    });
    await checkModel(qwen2, "qwen2");
    const qwen3 = writeLearnerTinyModel(path.join(dir, "qwen3.gguf"), { arch: "qwen3", dim: 64, heads: 4, kvHeads: 2, headDim: 32, ff: 128 });
    await checkModel(qwen3, "qwen3");
  }, 240_000);
});
