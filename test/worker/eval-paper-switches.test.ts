// Evaluation's paper-fidelity settings (docs/paper-fidelity.md): the paper's temperature from the
// benchmark preset, avg@k over `samples` rollouts per item, the official loop and several-gold
// matching, on the real batch evaluator with a scripted policy and the real BM25 search tool.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseBenchmarkConfig } from "../../contracts/index.js";
import { aggregateItems } from "../../worker/evaluation/aggregate.js";
import type { EvalContext } from "../../worker/evaluation/eval-context.js";
import { planEvaluation } from "../../worker/evaluation/eval-plan.js";
import { evaluateBatch } from "../../worker/evaluation/run-batch.js";
import { ScriptedEngine, type ScriptTurnContext } from "../icrl/scripted-engine.js";
import { openSmallSearch } from "../icrl/search-fixture.js";

let search: Awaited<ReturnType<typeof openSmallSearch>>;
beforeAll(async () => {
  search = await openSmallSearch();
});
afterAll(() => search?.cleanup());

function context(config: Record<string, unknown>): EvalContext {
  const parsed = parseBenchmarkConfig(config);
  if (!parsed.success) throw new Error(JSON.stringify(parsed.error.issues));
  return {
    kind: "EVAL",
    benchmarkRun: { id: "b", name: "b", model: "m.gguf", total: 2, config: parsed.data },
    dataset: { id: "d", name: "d", kind: "QA", splits: [] },
    adapter: null,
    demonstrationSet: null,
    completedItemIndexes: [],
  };
}

const FRANCE = { index: 0, externalId: "fr", question: "What is the capital of France?", golds: ["Paris"] };

describe("benchmark preset paper", () => {
  it("samples at the paper's temperature 0.1 with a seed per item", () => {
    const plan = planEvaluation(context({ preset: "paper" }));
    expect(plan.sampling).toMatchObject({ temperature: 0.1, seed: 0 });
    expect(plan).toMatchObject({ maxTurnTokens: 512, maxToolTurns: 6, loop: "official", multiGold: "any", samples: 1 });
    expect(planEvaluation(context({})).sampling).toEqual({ temperature: 0, seed: 0 });
  });
});

describe("samples: avg@k", () => {
  it("runs k rollouts per item with distinct seeds and scores their mean", async () => {
    // Sample 1 of each item answers right, the others wrong.
    const policy = ({ sampleIndex }: ScriptTurnContext) => `<think> ok </think>\n<answer> ${sampleIndex % 3 === 1 ? "Paris" : "Lyon"} </answer>`;
    const engine = new ScriptedEngine(policy);
    const plan = planEvaluation(context({ samples: 3, decoding: { temperature: 0.6, seed: 5 } }));
    const second = { ...FRANCE, index: 1, externalId: "fr2" };
    const results = await evaluateBatch(engine, [FRANCE, second], { ...plan, contextSize: 4096 }, [search.tool]);

    expect(engine.groups).toHaveLength(1);
    expect(engine.groups[0]).toHaveLength(6);
    const seeds = engine.groups[0].map((s) => s.lastOptions[0].sampling?.seed);
    expect(new Set(seeds).size).toBe(6);
    for (const result of results) {
      expect(result.score).toBeCloseTo(1 / 3, 12);
      expect(result.metrics).toMatchObject({ samples: 3, sampleScores: [0, 1, 0], turns: 1, finishReason: "answer" });
      expect((result.metrics as { em: number }).em).toBeCloseTo(1 / 3, 12);
      expect(result.prediction).toBe("Lyon"); // the first sample's, shown with its trajectory
    }
    expect(
      aggregateItems(
        results.map((r) => ({ score: r.score, metrics: r.metrics as Record<string, unknown> })),
        "em",
      ).accuracy,
    ).toBeCloseTo(1 / 3, 12);
  });

  it("samples: 1 keeps the seed a single-sample run has always used", async () => {
    const engine = new ScriptedEngine(() => "<answer> Paris </answer>");
    const plan = planEvaluation(context({ decoding: { temperature: 0.6, seed: 5 } }));
    const [result] = await evaluateBatch(engine, [FRANCE], { ...plan, contextSize: 4096 }, [search.tool]);
    expect(result.metrics).not.toHaveProperty("samples");
    const again = new ScriptedEngine(() => "<answer> Paris </answer>");
    await evaluateBatch(again, [FRANCE], { ...planEvaluation(context({ samples: 2, decoding: { temperature: 0.6, seed: 5 } })), contextSize: 4096 }, [
      search.tool,
    ]);
    expect(again.groups[0][0].lastOptions[0].sampling?.seed).toBe(engine.groups[0][0].lastOptions[0].sampling?.seed);
  });
});

describe("loop and multiGold in evaluation", () => {
  const searchThenAnswer = ({ turn }: ScriptTurnContext) =>
    turn === 0 ? "<think> look </think>\n<search> capital of France </search>" : "<think> found </think>\n<answer> Paris </answer>";

  it('loop "official" evaluates without the tools-off notice before the last turn', async () => {
    for (const [loop, kinds] of [
      ["ours", ["MODEL", "TOOL_CALL", "TOOL_RESULT", "SYSTEM", "MODEL"]],
      ["official", ["MODEL", "TOOL_CALL", "TOOL_RESULT", "MODEL"]],
    ] as const) {
      const plan = planEvaluation(context({ loop, maxToolTurns: 1 }));
      const [result] = await evaluateBatch(new ScriptedEngine(searchThenAnswer), [FRANCE], { ...plan, contextSize: 4096 }, [search.tool]);
      expect(result.trajectory.map((s) => s.kind)).toEqual(kinds);
      expect(result.score).toBe(1);
    }
  });

  it('multiGold "containsAll" scores an answer naming every gold', async () => {
    const item = {
      index: 0,
      externalId: "nyc",
      question: "Name the five boroughs of NYC",
      golds: ["Manhattan", "Queens", "Staten Island", "Brooklyn", "the Bronx"],
    };
    const answer = () => "<answer> The Bronx, Brooklyn, Manhattan, Queens, and Staten Island </answer>";
    const any = await evaluateBatch(new ScriptedEngine(answer), [item], { ...planEvaluation(context({})), contextSize: 4096 }, [search.tool]);
    const all = await evaluateBatch(
      new ScriptedEngine(answer),
      [item],
      { ...planEvaluation(context({ multiGold: "containsAll" })), contextSize: 4096 },
      [search.tool],
    );
    expect(any[0].score).toBe(0);
    expect(all[0].score).toBe(1);
  });
});
