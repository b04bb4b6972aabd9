// A run's accuracy reward uses the task's metric unless the config names one, as evaluation does: a
// math run scored with SQuAD exact match would count "1/2" as "12" and reward the wrong answers.
import { describe, expect, it } from "vitest";
import { rewardMetricOf, runConfigSchema, validateRunConfig } from "../../contracts/index.js";
import type { RolloutResult } from "../../worker/icrl/index.js";
import { scoreGroups } from "../../worker/training/stages/score.js";

const base = { model: { path: "/models/m.gguf" }, dataset: { id: "6f1c2b8e-1d2a-4c3b-9e8f-0a1b2c3d4e5f" } };
const parsed = (config: unknown) => {
  const r = validateRunConfig(config);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
};

describe("the reward metric follows the task", () => {
  it("defaults to em for QA and math_equiv for math, and keeps a configured metric", () => {
    expect(parsed(base).reward.metric).toBe("em");
    expect(parsed({ ...base, task: "math" }).reward.metric).toBe("math_equiv");
    expect(parsed({ ...base, task: "math", reward: { metric: "gsm8k" } }).reward.metric).toBe("gsm8k");
    expect(parsed({ ...base, reward: { metric: "f1" } }).reward.metric).toBe("f1");
    // Parsed without validateRunConfig, the metric stays unset and is resolved where it is used.
    const raw = runConfigSchema.parse({ ...base, task: "math" });
    expect(raw.reward.metric).toBeUndefined();
    expect(rewardMetricOf(raw)).toBe("math_equiv");
  });

  it("a math run rewards an equivalent answer that exact match would refuse", () => {
    const rollout = { modelText: "<think>half</think> <answer> 1/2 </answer>" } as RolloutResult;
    const question = { id: "q", question: "What is 2/4 in lowest terms?", golds: ["\\frac{1}{2}"] };
    const reward = (config: unknown) => scoreGroups([[rollout]], [question], runConfigSchema.parse(config), [])[0][0];
    expect(reward({ ...base, task: "math" }).accuracy).toBe(1);
    expect(reward({ ...base, task: "math", reward: { metric: "em" } }).accuracy).toBe(0);
  });
});
