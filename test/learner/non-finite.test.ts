// A learner step that meets NaN or infinity stops with an error naming what, the run's step and the
// likely cause, instead of reporting metrics the worker would drop. Real learner, real model file:
// finite weights so large that the logits overflow (the load-time check cannot see them).
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LearnerDriver, LearnerError } from "../../worker/learner/driver.js";
import { readGguf, readTensorData } from "../../worker/engine/gguf/reader.js";
import { writeGguf } from "../../worker/engine/gguf/writer.js";
import { GgmlType } from "../../worker/engine/gguf/ggml-types.js";
import { learnFrom } from "../../worker/training/stages/learn.js";
import { isRetryableJobFailure } from "../../worker/runtime/job-failure.js";
import { seededTokens, tempDir, writeLearnerTinyModel } from "./helpers.js";

let dir: string;
let overflowing: string;

beforeAll(() => {
  dir = tempDir("icrl-learner-non-finite-");
  const source = readGguf(writeLearnerTinyModel(path.join(dir, "tiny.gguf")));
  overflowing = path.join(dir, "overflowing.gguf");
  const tensors = source.tensors.map((info) => {
    if (info.type !== GgmlType.F32) throw new Error(`tiny model tensor ${info.name} is not F32`);
    const data = readTensorData(source, info);
    // ±3e38 is a finite float32, but a dot product of 64 of them is not.
    if (info.name === "output.weight") for (let i = 0; i < data.length; i++) data[i] = data[i] < 0 ? -3e38 : 3e38;
    return { name: info.name, dims: info.dims, type: info.type, data };
  });
  writeGguf(overflowing, source.metadata, tensors);
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("non-finite learner values", () => {
  it("a step whose log-probs overflow fails naming the value, the run's step and the likely cause, for good", async () => {
    const learner = LearnerDriver.start();
    try {
      await learner.init({ model_path: overflowing, lora: { rank: 4 }, optim: { lr: 1e-2 }, device: "cpu", threads: 1 });
      const tokens = seededTokens(24, 1);
      const error = await learnFrom(learner, [{ tokens, mask: tokens.map((_, i) => (i >= 12 ? 1 : 0)), advantage: 1 }], 3).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(LearnerError);
      expect((error as LearnerError).code).toBe("non_finite");
      expect((error as LearnerError).message).toMatch(
        /^learner log-prob is (NaN|-?inf) at step 3: the model's weights or the learning rate may be broken$/,
      );
      expect(isRetryableJobFailure(error)).toBe(false);
    } finally {
      await learner.shutdown();
    }
  });
});
