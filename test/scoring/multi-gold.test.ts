// reward.multiGold / benchmark multiGold: with several golds "any" needs one of them matched;
// "containsAll" (the official reward's set match) also accepts an answer naming every gold. One
// accuracy function (scoring/accuracy.ts) serves the training reward and benchmark items alike.
import { describe, expect, it } from "vitest";
import { accuracyOf, computeReward, containsAllGolds } from "../../worker/scoring/index.js";
import { scoreItem } from "../../worker/evaluation/score-item.js";

const BOROUGHS = ["Manhattan", "Queens", "Staten Island", "Brooklyn", "the Bronx"];
const ALL = "The Bronx, Brooklyn, Manhattan, Queens, and Staten Island";

describe("containsAll", () => {
  it("accepts an answer containing every normalised gold, in any order, and only then", () => {
    expect(containsAllGolds(ALL, BOROUGHS)).toBe(true);
    expect(containsAllGolds("Brooklyn, Manhattan, Queens and Staten Island", BOROUGHS)).toBe(false);
    expect(accuracyOf(ALL, BOROUGHS, { metric: "em", multiGold: "containsAll" })).toBe(1);
    expect(accuracyOf(ALL, BOROUGHS, { metric: "em", multiGold: "any" })).toBe(0);
    expect(accuracyOf(ALL, BOROUGHS, { metric: "em" })).toBe(0);
  });

  it("leaves single-gold questions to the metric (the official set match needs two golds or more)", () => {
    expect(accuracyOf("Paris, the capital", ["Paris"], { metric: "em", multiGold: "containsAll" })).toBe(0);
    expect(accuracyOf("Paris", ["Paris"], { metric: "em", multiGold: "containsAll" })).toBe(1);
  });

  it("raises a partial f1 to 1 where the set match holds", () => {
    const f1 = accuracyOf(ALL, BOROUGHS, { metric: "f1" });
    expect(f1).toBeGreaterThan(0);
    expect(f1).toBeLessThan(1);
    expect(accuracyOf(ALL, BOROUGHS, { metric: "f1", multiGold: "containsAll" })).toBe(1);
  });

  it("keeps the gsm8k reading of a bare number (one rule for reward and benchmarks)", () => {
    expect(accuracyOf(" 18 ", ["Janet sells ... #### 18"], { metric: "gsm8k" })).toBe(1);
    expect(accuracyOf(null, BOROUGHS, { metric: "em", multiGold: "containsAll" })).toBe(0);
  });
});

describe("where it applies", () => {
  const response = `<think> five boroughs </think>\n<search> NYC boroughs </search><answer> ${ALL} </answer>`;

  it("the training reward", () => {
    expect(computeReward(response, BOROUGHS, { metric: "em", multiGold: "containsAll" }).accuracy).toBe(1);
    expect(computeReward(response, BOROUGHS, { metric: "em" }).accuracy).toBe(0);
  });

  it("a benchmark item: its score, and the em it always reports", () => {
    const rollout = {
      modelText: response,
      segments: [{ kind: "MODEL" as const, text: response }],
      toolCallsValid: 1,
      toolCallsInvalid: 0,
      turns: 2,
      modelTokens: 40,
      promptTokens: 10,
      finishReason: "answer" as const,
    };
    const item = { index: 0, externalId: "q0", question: "What are the five boroughs?", golds: BOROUGHS };
    const plan = { metric: "em" as const, extraMetrics: ["f1" as const], toolNames: ["search"] };
    expect(scoreItem(item, rollout, plan).score).toBe(0);
    const all = scoreItem(item, rollout, { ...plan, multiGold: "containsAll" });
    expect(all.score).toBe(1);
    expect((all.metrics as Record<string, number>).f1).toBe(1);
  });
});
