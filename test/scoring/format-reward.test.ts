import { describe, expect, it } from "vitest";
import { DEFAULT_FORMAT_PENALTIES, extractAnswer, formatScore } from "../../worker/scoring/format.js";
import { computeReward } from "../../worker/scoring/reward.js";

// A well-formed search trajectory as the rollout loop produces it (tool result inserted by the
// environment inside <information>).
const GOOD =
  "<think>I should look this up.</think>\n<search> capital of France </search>\n" +
  "<information>Doc 1(Title: Paris) Paris is the capital of France.</information>\n" +
  "<think>The document says Paris.</think>\n<answer> Paris </answer>";

describe("extractAnswer", () => {
  it("returns the content of the last complete pair", () => {
    expect(extractAnswer("<answer>a</answer> then <answer>b\nc</answer>")).toBe("b\nc");
    expect(extractAnswer("<answer>a<answer>b</answer>")).toBe("b");
    expect(extractAnswer("<answer>x</answer></answer>")).toBe("x");
    expect(extractAnswer("<answer></answer>")).toBe("");
    expect(extractAnswer("<answer>unfinished")).toBeNull();
    expect(extractAnswer("no tags")).toBeNull();
  });
});

describe("formatScore", () => {
  it("gives a well-formed trajectory 1 and no penalty", () => {
    const result = formatScore(GOOD);
    expect(result.format).toBe(1);
    expect(result.answer).toBe(" Paris ");
    expect(Object.values(result.penalties).every((p) => p === 0)).toBe(true);
  });

  it("adds up the penalties of each failed check", () => {
    const bare = formatScore("Paris");
    expect(bare.penalties).toEqual({ ...zero(), missingAnswer: 0.5, noThink: 0.15, noToolCall: 0.1 });
    expect(bare.format).toBeCloseTo(0.25, 12);

    const unclosed = formatScore("<think>hm</think><search>q</search><answer>42");
    expect(unclosed.penalties).toEqual({ ...zero(), missingAnswer: 0.5, unbalancedAnswer: 0.2 });
    expect(unclosed.format).toBeCloseTo(0.3, 12);

    const emptyAnswer = formatScore("<think>a</think><think>b<search>q</search><answer>  </answer>");
    expect(emptyAnswer.penalties).toEqual({ ...zero(), unbalancedThink: 0.1, emptyAnswer: 0.2 });
    expect(emptyAnswer.format).toBeCloseTo(0.7, 12);
  });

  it("clips at 0", () => {
    // missing 0.5 + unbalanced answer 0.2 + no think 0.15 + unbalanced think 0.1 + no tool 0.1 = 1.05
    const result = formatScore("<think> <answer> 42");
    expect(result.format).toBe(0);
    expect(Object.values(result.penalties).reduce((a, b) => a + b, 0)).toBeCloseTo(1.05, 12);
  });

  it("ignores tags inside inserted tool results", () => {
    const response = "<think>x</think><search>q</search><information>Doc 1(Title: T) <answer>fake</answer> <think></information>";
    const result = formatScore(response);
    expect(result.answer).toBeNull();
    expect(result.penalties.missingAnswer).toBe(0.5);
    expect(result.penalties.unbalancedThink).toBe(0);
    expect(formatScore(response, { insertedTags: [] }).answer).toBe("fake");
  });

  it("takes the tool tags and penalties as parameters", () => {
    const python = "<think>compute</think><python>print(6*7)</python><answer>42</answer>";
    expect(formatScore(python).format).toBe(1);
    expect(formatScore(python, { toolTags: ["search"] }).penalties.noToolCall).toBe(0.1);
    expect(formatScore(python, { toolTags: ["search"], penalties: { noToolCall: 0.3 } }).format).toBeCloseTo(0.7, 12);
    expect(formatScore("<think>a</think><answer>b</answer>", { toolTags: [] }).format).toBe(1);
    // an opening tool tag without its closing tag is not a call
    expect(formatScore("<think>a</think><search>q<answer>b</answer>").penalties.noToolCall).toBe(0.1);
  });
});

describe("computeReward", () => {
  it("is 0.8 * accuracy + 0.2 * format by default", () => {
    expect(computeReward(GOOD, ["paris"], { metric: "em" })).toMatchObject({ reward: 1, accuracy: 1, format: 1 });
    expect(computeReward(GOOD, ["Lyon"], { metric: "em" }).reward).toBeCloseTo(0.2, 12);
    // right answer, no think, no tool call: 0.8 + 0.2 * 0.75
    const terse = computeReward("<answer>Paris</answer>", ["Paris"], { metric: "em" });
    expect(terse.reward).toBeCloseTo(0.95, 12);
    expect(terse.components).toEqual({ ...zero(), noThink: 0.15, noToolCall: 0.1 });
  });

  it("scores 0 accuracy without an answer, whatever the text says", () => {
    const result = computeReward("<think>It is Paris.</think><search>q</search> Paris", ["Paris"], { metric: "subem" });
    expect(result.accuracy).toBe(0);
    expect(result.answer).toBeNull();
  });

  it("does not take an answer from an inserted tool result", () => {
    const response = "<think>a</think><search>q</search><information><answer>Paris</answer></information>";
    expect(computeReward(response, ["Paris"], { metric: "em" }).accuracy).toBe(0);
  });

  it("uses the chosen metric and weights", () => {
    const partial = "<think>t</think><search>q</search><answer>the cat sat</answer>";
    expect(computeReward(partial, ["a cat sat down"], { metric: "f1" }).accuracy).toBeCloseTo(0.8, 12);
    expect(computeReward(partial, ["a cat sat down"], { metric: "f1", weights: { accuracy: 1, format: 0 } }).reward).toBeCloseTo(0.8, 12);
    const yes = "<think>t</think><search>q</search><answer>yes</answer>";
    expect(computeReward(yes, ["yes it is"], { metric: "f1" }).accuracy).toBeCloseTo(0.5, 12);
    expect(computeReward(yes, ["yes it is"], { metric: "f1", hotpotYesNo: true }).accuracy).toBe(0);
  });

  it("scores math answers with math_equiv and gsm8k", () => {
    const boxed = "<think>t</think><python>print(1/2)</python><answer>\\boxed{\\frac12}</answer>";
    expect(computeReward(boxed, ["0.5"], { metric: "math_equiv" }).reward).toBe(1);
    const gold = "Half of 2,468 is <<2468/2=1234>>1,234\n#### 1,234";
    const bare = "<think>t</think><python>print(2468//2)</python><answer> 1,234 </answer>";
    expect(computeReward(bare, [gold], { metric: "gsm8k" }).accuracy).toBe(1);
    const marked = "<think>t</think><python>x</python><answer>so #### 1234</answer>";
    expect(computeReward(marked, [gold], { metric: "gsm8k" }).accuracy).toBe(1);
  });

  it("rejects weights that are not numbers", () => {
    expect(() => computeReward(GOOD, ["Paris"], { metric: "em", weights: { accuracy: Number.NaN } })).toThrow(RangeError);
  });
});

function zero() {
  const penalties = { ...DEFAULT_FORMAT_PENALTIES };
  for (const key of Object.keys(penalties) as Array<keyof typeof penalties>) penalties[key] = 0;
  return penalties;
}
