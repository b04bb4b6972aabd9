// reward.scope: our reward reads the response alone; "promptAndResponse" reproduces the official code,
// which decoded prompt + response. With demonstrations in the prompt, their tags satisfy the format
// checks and their last answer stands in for a response that gives none: why it is off by default.
import { describe, expect, it } from "vitest";
import { validateRunConfig } from "../../contracts/index.js";
import type { RolloutResult } from "../../worker/icrl/index.js";
import { rewardText } from "../../worker/scoring/index.js";
import { scoreGroups } from "../../worker/training/stages/score.js";

const base = { model: { path: "/models/m.gguf" }, dataset: { id: "6f1c2b8e-1d2a-4c3b-9e8f-0a1b2c3d4e5f" } };
const config = (reward: Record<string, unknown>) => {
  const r = validateRunConfig({ ...base, reward });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
};

// A 1-shot prompt: its demonstration thinks, searches and answers "Paris".
const PROMPT = {
  text:
    "<|user|>\nExample:\nQuestion: capital of France?\n<think> look it up </think>\n<search> France capital </search>\n" +
    "<information>Doc 1(Title: Paris) ...</information>\n<answer> Paris </answer>\n\nQuestion: capital of France?\n<|assistant|>\n",
};
const question = { id: "q", question: "capital of France?", golds: ["Paris"] };
const rollout = (modelText: string) => ({ modelText }) as RolloutResult;

describe("reward.scope", () => {
  it("rewardText prepends the prompt only for promptAndResponse", () => {
    expect(rewardText("response", "P", "R")).toBe("R");
    expect(rewardText("promptAndResponse", "P", "R")).toBe("PR");
  });

  it("response (default): a reply with no tags and no answer earns nothing but the empty-format floor", () => {
    const [[r]] = scoreGroups([[rollout("I do not know.")]], [question], config({}), ["search"], [PROMPT]);
    expect(r.accuracy).toBe(0);
    expect(r.format).toBe(0.25); // 1 - 0.5 - 0.15 - 0.1
    expect(r.reward).toBeCloseTo(0.05);
  });

  it("promptAndResponse: the same reply is scored on the demonstration's tags and answer", () => {
    const [[r]] = scoreGroups([[rollout("I do not know.")]], [question], config({ scope: "promptAndResponse" }), ["search"], [PROMPT]);
    expect(r.accuracy).toBe(1);
    expect(r.format).toBe(1);
    expect(r.reward).toBeCloseTo(1);
  });

  it("promptAndResponse needs the prompts", () => {
    expect(() => scoreGroups([[rollout("x")]], [question], config({ scope: "promptAndResponse" }), [])).toThrow(/needs the prompts/);
  });
});
