// Training's paper-fidelity switches outside the rollout loop: the per-stage learning-rate warm-up
// (grpo.stageWarmup, as verl's lr_warmup_steps_ratio re-applied at every stage's launch) and
// mini-batches counted in questions (grpo.miniBatchQuestions) as the learner receives them.
import { describe, expect, it } from "vitest";
import { validateRunConfig } from "../../contracts/index.js";
import type { StepMetrics, TrainingSample } from "../../worker/learner/driver.js";
import { learnFrom } from "../../worker/training/stages/learn.js";
import { stageLength, stageWarmupScale } from "../../worker/training/stage-warmup.js";
import { learnerInitParams } from "../../worker/training/train-setup.js";

const base = { model: { path: "/models/m.gguf" }, dataset: { id: "6f1c2b8e-1d2a-4c3b-9e8f-0a1b2c3d4e5f" } };
const valid = (config: unknown) => {
  const r = validateRunConfig(config);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
};

describe("grpo.stageWarmup", () => {
  it("scales the lr linearly over the first 10% of a 100-step stage, from 0 as verl's schedule", () => {
    const scales = Array.from({ length: 12 }, (_, t) => stageWarmupScale(0.1, t, 100));
    expect(scales).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1]);
  });

  it("starts again in every stage: the scale depends on the step within the stage", () => {
    expect(stageWarmupScale(0.1, 0, 100)).toBe(0);
    expect(stageWarmupScale(0.1, 99, 100)).toBe(1);
    expect(stageWarmupScale(0.1, 5, 20)).toBe(1); // 2 warm-up steps in a 20-step stage
    expect(stageWarmupScale(0.1, 1, 20)).toBe(0.5);
  });

  it("is off at 0, for stages shorter than one warm-up step, and for rule-driven stages with no bound", () => {
    expect(stageWarmupScale(0, 0, 100)).toBe(1);
    expect(stageWarmupScale(0.1, 0, 5)).toBe(1);
    expect(stageWarmupScale(0.1, 0, null)).toBe(1);
    expect(stageLength({ steps: 100 })).toBe(100);
    expect(stageLength({ steps: 100, maxSteps: 40 })).toBe(40);
    expect(stageLength({})).toBeNull();
  });

  it("the learn stage sends the scale with the step, and nothing when it is 1", async () => {
    const sent: unknown[] = [];
    const learner = {
      step: async (_batch: TrainingSample[], options?: { lrScale?: number }) => {
        sent.push(options);
        return {} as StepMetrics;
      },
    };
    const samples = [{ tokens: [1, 2], mask: [0, 1], advantage: 1 }] as TrainingSample[];
    await learnFrom(learner, samples, 1, 0.3);
    await learnFrom(learner, samples, 2);
    expect(sent).toEqual([{ lrScale: 0.3 }, {}]);
  });
});

describe("grpo.miniBatchQuestions", () => {
  it("reaches the learner as questions x G rollouts per update (the paper: 32 x 8)", () => {
    expect(learnerInitParams(valid({ ...base, preset: "paper" })).optim).toMatchObject({ mini_batch_size: 256, lr: 1e-6 });
    expect(learnerInitParams(valid({ ...base, grpo: { groupSize: 4, miniBatchQuestions: 2 } })).optim).toMatchObject({ mini_batch_size: 8 });
    expect(learnerInitParams(valid({ ...base, grpo: { miniBatchSize: 24 } })).optim).toMatchObject({ mini_batch_size: 24 });
    expect(learnerInitParams(valid(base)).optim).not.toHaveProperty("mini_batch_size");
  });
});
