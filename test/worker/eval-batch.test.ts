// How one batch of benchmark questions is evaluated and scored, with a scripted policy standing in
// for the model (so the answers are known) and the real BM25 search tool: the prediction is the
// model's last <answer>, em/f1 and tool counts are right, questions share one engine group, text the
// database cannot store is made storable, and a question too long for the context scores 0.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { benchmarkConfigSchema } from "../../contracts/index.js";
import { aggregateItems } from "../../worker/evaluation/aggregate.js";
import type { EvalContext } from "../../worker/evaluation/eval-context.js";
import { planEvaluation } from "../../worker/evaluation/eval-plan.js";
import { evaluateBatch } from "../../worker/evaluation/run-batch.js";
import { LOOKUP_TEMPLATE } from "../../cli/demo/lookup-task.js";
import { ScriptedEngine } from "../icrl/scripted-engine.js";
import { openSmallSearch } from "../icrl/search-fixture.js";

let search: Awaited<ReturnType<typeof openSmallSearch>>;

beforeAll(async () => {
  search = await openSmallSearch();
});

afterAll(() => search?.cleanup());

function context(kind: "QA" | "MATH", config: Record<string, unknown> = {}, demonstrationSet: EvalContext["demonstrationSet"] = null): EvalContext {
  return {
    kind: "EVAL",
    benchmarkRun: { id: "b", name: "b", model: "m.gguf", total: 4, config: benchmarkConfigSchema.parse(config) },
    dataset: { id: "d", name: "d", kind, splits: [] },
    adapter: null,
    demonstrationSet,
    completedItemIndexes: [],
  };
}

/** Answers by reading the question in its prompt, the way the tests' "model" should behave. */
function policy({ turn, context: text }: { turn: number; context: string }): string {
  const question = text.slice(text.lastIndexOf("Question: "));
  if (question.includes("France")) {
    return turn === 0
      ? "<think> I should look it up. </think>\n<search> capital of France </search>"
      : "<think> Found it. </think>\n<answer> Paris </answer>";
  }
  if (question.includes("mountain")) return "<think> I know this. </think>\n<answer> Everest </answer>";
  return "\u0000 no idea";
}

describe("evaluating a batch", () => {
  it("scores each question from its own rollout, in one engine group", async () => {
    const engine = new ScriptedEngine(policy);
    const plan = planEvaluation(context("QA", { maxToolTurns: 1, maxTurnTokens: 200, maxTotalTokens: 600 }));
    const items = [
      { index: 3, externalId: "fr", question: "What is the capital of France?", golds: ["Paris"] },
      { index: 4, externalId: "mt", question: "What is the highest mountain?", golds: ["Mount Everest"] },
      { index: 5, externalId: "de", question: "What is the largest city of Germany?", golds: ["Berlin"] },
      { index: 6, externalId: "long", question: "Why? ".repeat(1000), golds: ["because"] },
    ];
    const results = await evaluateBatch(engine, items, { ...plan, contextSize: 4096 }, [search.tool]);

    expect(engine.groups).toHaveLength(1);
    expect(engine.groups[0]).toHaveLength(3); // the question that does not fit never reaches the engine
    expect(results.map((r) => r.itemIndex)).toEqual([3, 4, 5, 6]);

    const [france, mountain, germany, long] = results;
    expect(france).toMatchObject({ itemId: "fr", prediction: "Paris", score: 1, golds: ["Paris"] });
    expect(france.metrics).toMatchObject({ em: 1, f1: 1, toolCalls: 1, turns: 2, finishReason: "answer", format: 1 });
    // One tool turn allowed: the tools-off notice (SYSTEM) comes before the final turn.
    expect(france.trajectory.map((s) => s.kind)).toEqual(["MODEL", "TOOL_CALL", "TOOL_RESULT", "SYSTEM", "MODEL"]);
    expect(france.trajectory[2].text).toContain("Paris is the capital");

    expect(mountain).toMatchObject({ prediction: "Everest", score: 0 });
    expect(mountain.metrics).toMatchObject({ em: 0, toolCalls: 0, turns: 1, finishReason: "answer" });
    expect((mountain.metrics as { f1: number }).f1).toBeCloseTo(2 / 3, 10);

    expect(germany).toMatchObject({ prediction: "", score: 0 });
    expect(germany.metrics).toMatchObject({ em: 0, f1: 0, finishReason: "max_turns" });
    const text = germany.trajectory.map((s) => s.text).join("");
    expect(text).not.toContain("\u0000");
    expect(text).toContain("\uFFFD no idea");

    expect(long).toMatchObject({ prediction: "", score: 0, trajectory: [] });
    expect(long.metrics).toMatchObject({ finishReason: "error", em: 0, f1: 0 });
    expect(String((long.metrics as { error: string }).error)).toMatch(/does not fit/);

    const aggregate = aggregateItems(
      results.map((r) => ({ score: r.score, metrics: r.metrics as Record<string, unknown> })),
      plan.metric,
    );
    expect(aggregate).toMatchObject({ n: 4, accuracy: 0.25, em: 0.25, toolCallsMean: 0.25, answeredRate: 0.5 });
    expect(aggregate.f1).toBeCloseTo((1 + 2 / 3) / 4, 10);
  });

  it("uses the task's defaults: em/f1 for QA, math_equiv for math, greedy decoding, demonstrations only with shots", () => {
    const qa = planEvaluation(context("QA"));
    expect(qa).toMatchObject({ task: "qa", metric: "em", extraMetrics: ["f1"], shots: 0, demonstrations: null, sampling: { temperature: 0 } });
    const f1 = planEvaluation(context("QA", { metric: "f1" }));
    expect(f1.extraMetrics).toEqual(["em"]);
    const math = planEvaluation(context("MATH", { shots: 2 }));
    expect(math).toMatchObject({ task: "math", metric: "math_equiv", extraMetrics: [], shots: 2 });
    expect(math.demonstrations?.task).toBe("math");
    expect(math.template.task).toBe("math");
    const own = planEvaluation(
      context("QA", { shots: 1 }, { id: "s", name: "mine", task: "QA", items: [{ question: "q?", trajectory: "<answer> a </answer>" }] }),
    );
    expect(own.demonstrations).toMatchObject({ name: "mine", task: "qa" });
    expect(() =>
      planEvaluation(context("QA", { shots: 1 }, { id: "s", name: "maths", task: "MATH", items: [{ question: "q?", trajectory: "t" }] })),
    ).toThrow(/for math/);
  });

  it("prompts with the benchmark's own template when it has one (a trained adapter's run template)", () => {
    expect(planEvaluation(context("QA")).template.name).not.toBe(LOOKUP_TEMPLATE.name);
    const plan = planEvaluation(context("QA", { template: LOOKUP_TEMPLATE }));
    expect(plan.template).toEqual(benchmarkConfigSchema.parse({ template: LOOKUP_TEMPLATE }).template);
    expect(plan.template.name).toBe(LOOKUP_TEMPLATE.name);
  });
});
