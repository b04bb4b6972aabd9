// `preset: "paper"` (contracts/paper-preset.ts): unset settings take the paper's / official code's
// values, the user's own settings win, the validated config stores what it resolved to, and the
// new switches refuse bad values and conflicts with a path and a message saying what to do.
import { describe, expect, it } from "vitest";
import {
  applyRunPreset,
  metricForTask,
  miniBatchSequences,
  PAPER_BENCHMARK_PRESET,
  PAPER_RUN_PRESET,
  parseBenchmarkConfig,
  rewardMetricOf,
  validateRunConfig,
  withRunPrompt,
} from "../../contracts/index.js";
import { QA_SEARCH_TEMPLATE } from "../../worker/icrl/default-templates.js";

const base = { model: { path: "/models/m.gguf" }, dataset: { id: "6f1c2b8e-1d2a-4c3b-9e8f-0a1b2c3d4e5f" } };
const valid = (config: unknown) => {
  const r = validateRunConfig(config);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
};
const errorsOf = (config: unknown) => {
  const r = validateRunConfig(config);
  expect(r.ok).toBe(false);
  return r.ok ? [] : r.errors;
};

describe("run config preset paper", () => {
  it("fills every unset setting with the paper's value", () => {
    const config = valid({ ...base, preset: "paper" });
    expect(config.preset).toBe("paper");
    expect(config.grpo).toMatchObject({
      groupSize: 8,
      questionsPerStep: 64,
      lr: 1e-6,
      klCoef: 0.001,
      miniBatchQuestions: 32,
      stageWarmup: 0.1,
      resetOnStage: { optimizer: true, reference: true },
    });
    expect(config.grpo.miniBatchSize).toBeUndefined();
    expect(config.rollout).toMatchObject({ maxToolTurns: 6, maxTurnTokens: 2048, maxTotalTokens: 5000, turnCapAction: "invalid", loop: "official" });
    expect(config.reward).toMatchObject({
      metric: "em",
      accuracyWeight: 0.8,
      formatWeight: 0.2,
      multiGold: "containsAll",
      scope: "promptAndResponse",
    });
    expect(config.validation).toEqual({ every: 10, size: 128 });
    expect(config.model).toMatchObject({ path: "/models/m.gguf", contextSize: 9216 });
  });

  it("keeps every setting the user wrote, at any depth", () => {
    const config = valid({
      ...base,
      preset: "paper",
      grpo: { lr: 1e-4, resetOnStage: { reference: false } },
      rollout: { loop: "ours" },
      reward: { scope: "response" },
      model: { ...base.model, contextSize: 4096 },
    });
    expect(config.grpo.lr).toBe(1e-4);
    expect(config.grpo.resetOnStage).toEqual({ optimizer: true, reference: false });
    expect(config.grpo.groupSize).toBe(8);
    expect(config.rollout.loop).toBe("ours");
    expect(config.rollout.turnCapAction).toBe("invalid");
    expect(config.reward.scope).toBe("response");
    expect(config.model.contextSize).toBe(4096);
  });

  it("a user's miniBatchSize replaces the preset's miniBatchQuestions", () => {
    const config = valid({ ...base, preset: "paper", grpo: { miniBatchSize: 16 } });
    expect(config.grpo.miniBatchSize).toBe(16);
    expect(config.grpo.miniBatchQuestions).toBeUndefined();
  });

  it("re-validating a stored preset config changes nothing (resume, fork)", () => {
    const stored = valid({ ...base, preset: "paper", grpo: { lr: 3e-5 } });
    expect(valid(JSON.parse(JSON.stringify(stored)))).toEqual(stored);
  });

  it("without a preset the defaults are ours, and the preset tables do not change", () => {
    const config = valid(base);
    expect(config.preset).toBeUndefined();
    expect(config.grpo).toMatchObject({ lr: 1e-4, stageWarmup: 0, resetOnStage: { optimizer: false, reference: false } });
    expect(config.rollout).toMatchObject({ maxTurnTokens: 512, maxTotalTokens: 2048, turnCapAction: "end", loop: "ours" });
    expect(config.reward).toMatchObject({ multiGold: "any", scope: "response" });
    expect(applyRunPreset(base)).toBe(base);
    valid({ ...base, preset: "paper" });
    expect((PAPER_RUN_PRESET.grpo as Record<string, unknown>).lr).toBe(1e-6);
  });

  it("refuses an unknown preset and bad switch values, naming the field and the choices", () => {
    expect(errorsOf({ ...base, preset: "official" })[0]).toMatchObject({ path: "preset", message: expect.stringContaining('"paper"') });
    expect(errorsOf({ ...base, rollout: { turnCapAction: "stop" } })[0]).toMatchObject({
      path: "rollout.turnCapAction",
      message: expect.stringMatching(/"end".*"invalid"/),
    });
    expect(errorsOf({ ...base, rollout: { loop: "verl" } })[0].path).toBe("rollout.loop");
    expect(errorsOf({ ...base, reward: { multiGold: "all" } })[0].path).toBe("reward.multiGold");
    expect(errorsOf({ ...base, reward: { scope: "prompt" } })[0].path).toBe("reward.scope");
    expect(errorsOf({ ...base, grpo: { stageWarmup: 1.5 } })[0].path).toBe("grpo.stageWarmup");
    expect(errorsOf({ ...base, grpo: { miniBatchQuestions: 0 } })[0].path).toBe("grpo.miniBatchQuestions");
  });

  it("refuses miniBatchSize and miniBatchQuestions together, saying which to keep", () => {
    const errors = errorsOf({ ...base, grpo: { miniBatchSize: 64, miniBatchQuestions: 8 } });
    expect(errors).toEqual([
      { path: "grpo.miniBatchQuestions", message: expect.stringContaining("set either grpo.miniBatchSize (rollouts per update)") },
    ]);
    // Under the preset as well, when the user writes both.
    expect(errorsOf({ ...base, preset: "paper", grpo: { miniBatchSize: 64, miniBatchQuestions: 8 } })[0].path).toBe("grpo.miniBatchQuestions");
  });
});

describe("mini-batches counted in questions", () => {
  it("the learner's mini-batch is questions x G rollouts; miniBatchSize is already rollouts", () => {
    expect(miniBatchSequences({ groupSize: 8, miniBatchQuestions: 32 })).toBe(256);
    expect(miniBatchSequences({ groupSize: 8, miniBatchSize: 24 })).toBe(24);
    expect(miniBatchSequences({ groupSize: 8 })).toBeUndefined();
    // The paper's step: 64 questions x 8 rollouts in mini-batches of 32 questions = two updates.
    const grpo = valid({ ...base, preset: "paper" }).grpo;
    expect((grpo.questionsPerStep * grpo.groupSize) / miniBatchSequences(grpo)!).toBe(2);
  });
});

describe("the task's metric", () => {
  it("is one rule for training and evaluation: em for QA, math_equiv for math", () => {
    expect(metricForTask("qa")).toBe("em");
    expect(metricForTask("math")).toBe("math_equiv");
    expect(valid({ ...base, task: "math", preset: "paper" }).reward.metric).toBe("math_equiv");
    expect(rewardMetricOf({ task: "math", reward: { metric: undefined } } as never)).toBe("math_equiv");
  });
});

describe("benchmark config preset paper", () => {
  const parsed = (input: unknown) => {
    const r = parseBenchmarkConfig(input);
    if (!r.success) throw new Error(JSON.stringify(r.error.issues));
    return r.data;
  };

  it("fills the official evaluation's settings; the user's win", () => {
    const config = parsed({ preset: "paper" });
    expect(config.decoding.temperature).toBe(0.1);
    expect(config).toMatchObject({
      maxToolTurns: 6,
      maxTurnTokens: 512,
      contextSize: 8192,
      multiGold: "any",
      loop: "official",
      turnCapAction: "end",
    });
    expect(config.samples).toBe(1);
    const mine = parsed({ preset: "paper", decoding: { temperature: 0.6 }, samples: 8, maxTurnTokens: 1024 });
    expect(mine.decoding).toMatchObject({ temperature: 0.6, topP: 1 });
    expect(mine).toMatchObject({ samples: 8, maxTurnTokens: 1024, loop: "official" });
    expect((PAPER_BENCHMARK_PRESET.decoding as Record<string, unknown>).temperature).toBe(0.1);
  });

  it("defaults without a preset: greedy, one sample, our loop", () => {
    const config = parsed({});
    expect(config.decoding.temperature).toBe(0);
    expect(config).toMatchObject({ samples: 1, loop: "ours", turnCapAction: "end", multiGold: "any" });
  });

  it("refuses bad samples and switch values", () => {
    for (const bad of [{ samples: 0 }, { samples: 65 }, { loop: "x" }, { multiGold: "every" }, { preset: "paperish" }]) {
      expect(parseBenchmarkConfig(bad).success).toBe(false);
    }
  });
});

describe("evaluating a run's adapter uses the run's prompt", () => {
  const template = { ...QA_SEARCH_TEMPLATE, name: "mine", instructions: "Answer briefly. {tools}" };
  it("fills template and chat template arguments from the run unless the benchmark names them", () => {
    const run = { template, model: { chatTemplateArgs: { enable_thinking: false } } };
    expect(withRunPrompt({ limit: 5 }, run)).toEqual({ limit: 5, template, chatTemplateArgs: { enable_thinking: false } });
    const own = { ...template, name: "bench" };
    expect(withRunPrompt({ template: own }, run).template).toBe(own);
    expect(withRunPrompt({}, { model: {} })).toEqual({});
  });
});

describe("docs/paper-fidelity.md", () => {
  const leaves = (value: unknown, prefix = ""): [string, unknown][] =>
    typeof value === "object" && value !== null && !Array.isArray(value)
      ? Object.entries(value).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k))
      : [[prefix, value]];

  it("names every setting the presets fill, with its value", async () => {
    const { readFile } = await import("node:fs/promises");
    const doc = await readFile(new URL("../../docs/paper-fidelity.md", import.meta.url), "utf8");
    const missing = [...leaves(PAPER_RUN_PRESET), ...leaves(PAPER_BENCHMARK_PRESET)]
      // Small numbers as the doc writes them: 1e-6, not 0.000001.
      .map(([path, value]) => [path, typeof value === "number" && value !== 0 && Math.abs(value) < 1e-3 ? value.toExponential() : value])
      .filter(([path, value]) => !doc.includes(`\`${path}\`: \`${value}\``))
      .map(([path, value]) => `${path}: ${value}`);
    expect(missing).toEqual([]);
  });
});
