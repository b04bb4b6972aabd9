// One GRPO group end to end: rollouts (scripted policy, real search tool over memory), the real
// reward on the model's own text, group advantages, and the records the worker reports.
import { describe, expect, it } from "vitest";
import { groupAdvantages } from "../../worker/icrl/advantages.js";
import { QA_SEARCH_TEMPLATE } from "../../worker/icrl/default-templates.js";
import { toRolloutRecord } from "../../worker/icrl/rollout-record.js";
import { runRolloutGroup } from "../../worker/icrl/rollout.js";
import { RolloutRecordSchema } from "../../contracts/index.js";
import { computeReward } from "../../worker/scoring/reward.js";
import { openSmallSearch } from "./search-fixture.js";
import { bytesOf, ScriptedEngine, type Policy } from "./scripted-engine.js";

describe("a GRPO group from rollouts to records", () => {
  it("scores the model's text only, computes advantages and builds valid records", async () => {
    const scripts: string[][] = [
      ["<think> look up </think><search> capital of France </search>", "<think> Paris </think><answer> Paris </answer>"],
      ["<think> guess </think><answer> Lyon </answer>"],
      ["<search> capital of France </search>", "<answer> Paris </answer>"],
      ["no idea", "still none"],
    ];
    const policy: Policy = ({ sampleIndex, turn }) => scripts[sampleIndex][turn] ?? "";
    const search = await openSmallSearch();
    const engine = new ScriptedEngine(policy);
    const group = await engine.openGroup(scripts.length);
    const prompt = bytesOf("<|user|>\nWhat is the capital of France?\n<|assistant|>\n");
    const { rollouts } = await runRolloutGroup(engine, group, prompt, {
      tools: [search.tool],
      messages: QA_SEARCH_TEMPLATE,
      maxToolTurns: 1,
    });
    search.cleanup();
    expect(rollouts.map((r) => r.finishReason)).toEqual(["answer", "answer", "answer", "max_turns"]);

    const rewards = rollouts.map((r) => computeReward(r.modelText, ["Paris"], { metric: "em", format: { toolTags: ["search"] } }));
    expect(rewards.map((r) => r.accuracy)).toEqual([1, 0, 1, 0]);
    expect(rewards[0].reward).toBeCloseTo(1, 12);
    // The fourth rollout's inserted text names <answer> tags; scoring modelText keeps it from counting.
    expect(rollouts[3].responseText).toContain("<answer>");
    expect(rewards[3].answer).toBeNull();

    const { advantages, zeroVariance } = groupAdvantages(rewards.map((r) => r.reward));
    expect(zeroVariance).toBe(false);
    expect(advantages[0]).toBeGreaterThan(advantages[2]); // no think: format penalty
    expect(advantages[3]).toBeLessThan(advantages[1]);

    const records = rollouts.map((rollout, i) =>
      toRolloutRecord(rollout, {
        step: 12,
        stage: 1,
        shots: 2,
        groupIndex: 5,
        questionId: "nq-7",
        reward: rewards[i].reward,
        rewardComponents: { accuracy: rewards[i].accuracy, format: rewards[i].format, ...rewards[i].components },
        advantage: advantages[i],
      }),
    );
    for (const record of records) expect(RolloutRecordSchema.parse(JSON.parse(JSON.stringify(record)))).toEqual(record);
    expect(records[0]).toMatchObject({ sampleIndex: 0, turns: 2, toolCallsValid: 1, toolCallsInvalid: 0, promptTokens: prompt.length });
    expect(records[0].segments.map((s) => s.kind)).toEqual(["MODEL", "TOOL_CALL", "TOOL_RESULT", "SYSTEM", "MODEL"]);
    expect(() =>
      toRolloutRecord(rollouts[0], { step: -1, stage: 0, shots: 0, groupIndex: 0, questionId: "q", reward: 0, rewardComponents: {}, advantage: 0 }),
    ).toThrow();
  });
});
