// The run config's learner memory settings (learner.dtype, learner.gradientCheckpointing,
// learner.logprobChunk) reach the learner's init as its own parameters, are left out when unset (so
// stored configs train as they did), are refused with the fix when wrong, and the learner honours them.
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { validateRunConfig } from "../../contracts/index.js";
import { LearnerDriver } from "../../worker/learner/index.js";
import { learnerInitParams } from "../../worker/training/train-setup.js";
import { seededTokens, tempDir, writeLearnerTinyModel } from "./helpers.js";

const dir = tempDir("icrl-learner-settings-");
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const base = { model: { path: "/models/m.gguf" }, dataset: { id: "6f1c2b8e-1d2a-4c3b-9e8f-0a1b2c3d4e5f" } };

describe("learner memory settings", () => {
  it("reach the learner's init when set, and are absent when not", () => {
    const set = validateRunConfig({ ...base, learner: { device: "cpu", dtype: "bfloat16", gradientCheckpointing: true, logprobChunk: 64 } });
    if (!set.ok) throw new Error(JSON.stringify(set.errors));
    expect(learnerInitParams(set.config)).toMatchObject({ device: "cpu", dtype: "bfloat16", gradient_checkpointing: true, logprob_chunk: 64 });
    const unset = validateRunConfig(base);
    if (!unset.ok) throw new Error(JSON.stringify(unset.errors));
    const params = learnerInitParams(unset.config);
    for (const key of ["dtype", "gradient_checkpointing", "logprob_chunk"]) expect(params).not.toHaveProperty(key);
    const zero = validateRunConfig({ ...base, learner: { logprobChunk: 0, gradientCheckpointing: false } });
    if (!zero.ok) throw new Error(JSON.stringify(zero.errors));
    expect(learnerInitParams(zero.config)).toMatchObject({ logprob_chunk: 0, gradient_checkpointing: false });
  });

  it("refuses a wrong value with the setting and what it accepts", () => {
    const messages = (learner: unknown) => {
      const r = validateRunConfig({ ...base, learner });
      return r.ok ? [] : r.errors.map((e) => `${e.path}: ${e.message}`);
    };
    expect(messages({ dtype: "fp8" })).toEqual(["learner.dtype: learner.dtype must be float32, bfloat16 or float16"]);
    expect(messages({ logprobChunk: -1 })[0]).toContain("learner.logprobChunk must be 0 (no chunking) or a positive number of positions");
    expect(messages({ gradientCheckpointing: "yes" })[0]).toMatch(/^learner.gradientCheckpointing: /);
  });

  it("the learner trains with them: bfloat16 weights, checkpointing and small chunks, the same log-probs within bf16 rounding", async () => {
    const model = writeLearnerTinyModel(path.join(dir, "tiny.gguf"));
    const learner = LearnerDriver.start();
    try {
      const sequence = seededTokens(40, 5);
      const init = (extra: object) =>
        learner.init({ model_path: model, lora: { rank: 4, alpha: 8 }, optim: { lr: 1e-3 }, seed: 1, device: "cpu", threads: 1, ...extra });
      expect((await init({})).dtype).toBe("float32");
      const [plain] = await learner.logprobs({ sequences: [sequence] });
      const info = await init({ dtype: "bfloat16", gradient_checkpointing: true, logprob_chunk: 8 });
      expect(info.dtype).toBe("bfloat16");
      const [chunked] = await learner.logprobs({ sequences: [sequence] });
      expect(chunked).toHaveLength(plain.length);
      const worst = Math.max(...chunked.map((v, i) => Math.abs(v - plain[i])));
      expect(worst).toBeGreaterThan(0); // bfloat16 weights are not the float32 ones
      expect(worst).toBeLessThan(0.1);
      const metrics = await learner.step([{ tokens: sequence, mask: sequence.map((_, i) => (i >= 20 ? 1 : 0)), advantage: 1 }]);
      expect(Number.isFinite(metrics.loss)).toBe(true);
    } finally {
      await learner.shutdown();
    }
  });
});
