// Every level of the run config is strict: a typo anywhere is an error at its full path with the key
// it most likely meant, never a default silently kept (and in run files, at its line and column).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { closestKey, knownKeysAt, runConfigSchema, validateRunConfig } from "../../contracts/index.js";
import { CliError } from "../../cli/support/exit-codes.js";
import { parseRunDefinition } from "../../cli/support/run-file.js";

const base = {
  model: { path: "/models/m.gguf" },
  dataset: { id: "6f1c2b8e-1d2a-4c3b-9e8f-0a1b2c3d4e5f" },
  tools: { search: { kind: "local", corpus: "/data/c.jsonl" } },
  curriculum: {
    stages: [
      { shots: 2, steps: 5 },
      { shots: 0, steps: 5 },
    ],
  },
};

function errorsOf(config: unknown) {
  const r = validateRunConfig(config);
  expect(r.ok).toBe(false);
  return r.ok ? [] : r.errors;
}

describe("unknown keys at every level", () => {
  it("names the full path and suggests the key meant", () => {
    expect(errorsOf({ ...base, grpo: { lrr: 0.5 } })).toEqual([{ path: "grpo.lrr", message: 'unknown key; did you mean "lr"?' }]);
    expect(errorsOf({ ...base, rollout: { temprature: 0.7 } })).toEqual([
      { path: "rollout.temprature", message: 'unknown key; did you mean "temperature"?' },
    ]);
    expect(errorsOf({ ...base, tools: { search: { ...base.tools.search, topk: 5 } } })).toEqual([
      { path: "tools.search.topk", message: 'unknown key; did you mean "topK"?' },
    ]);
    expect(
      errorsOf({
        ...base,
        curriculum: {
          stages: [
            { shots: 2, step: 5 },
            { shots: 0, steps: 5 },
          ],
        },
      })[0],
    ).toEqual({
      path: "curriculum.stages.0.step",
      message: 'unknown key; did you mean "steps"?',
    });
    expect(errorsOf({ ...base, grpo: { resetOnStage: { optimiser: true } } })).toEqual([
      { path: "grpo.resetOnStage.optimiser", message: 'unknown key; did you mean "optimizer"?' },
    ]);
    const far = errorsOf({ ...base, lora: { banana: 1 } });
    expect(far).toEqual([{ path: "lora.banana", message: "unknown key (known here: rank, alpha, targets)" }]);
  });

  it("the config without the typo is valid, and its default is what a typo used to keep", () => {
    const ok = validateRunConfig({ ...base, grpo: { lr: 0.5 } });
    expect(ok.ok && ok.config.grpo.lr).toBe(0.5);
  });

  it("rejects any unknown key at any object level (property)", () => {
    const levels: string[][] = [
      [],
      ["model"],
      ["dataset"],
      ["grpo"],
      ["grpo", "resetOnStage"],
      ["lora"],
      ["rollout"],
      ["reward"],
      ["validation"],
      ["demonstrations"],
      ["requirements"],
    ];
    fc.assert(
      fc.property(fc.constantFrom(...levels), fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,15}$/), (level, key) => {
        fc.pre(!knownKeysAt(runConfigSchema, level).includes(key) && key !== "__proto__");
        const config: Record<string, unknown> = structuredClone(base);
        let node = config;
        for (const part of level) node = (node[part] ??= {}) as Record<string, unknown>;
        node[key] = 1;
        const r = validateRunConfig(config);
        return !r.ok && r.errors.some((e) => e.path === [...level, key].join(".") && e.message.startsWith("unknown key"));
      }),
      { numRuns: 300 },
    );
  });

  it("closestKey: case slips and small edits, nothing for unrelated words", () => {
    expect(closestKey("LR", ["lr", "clipEps"])).toBe("lr");
    expect(closestKey("groupsize", ["groupSize", "epochs"])).toBe("groupSize");
    expect(closestKey("questonsPerStep", ["questionsPerStep", "groupSize"])).toBe("questionsPerStep");
    expect(closestKey("wibble", ["lr", "epochs", "groupSize"])).toBeNull();
  });
});

describe("run length", () => {
  it("is stated: the last stage's steps, or the run's maxSteps; rules need an end", () => {
    expect(errorsOf({ ...base, curriculum: { stages: [{ shots: 3, steps: 100 }, { shots: 2, steps: 100 }, { shots: 0 }] } })).toEqual([
      { path: "curriculum.stages.2.steps", message: expect.stringContaining("would end before this stage ran a step") },
    ]);
    expect(validateRunConfig({ ...base, curriculum: { stages: [{ shots: 3, steps: 100 }, { shots: 0 }] }, maxSteps: 150 }).ok).toBe(true);
    const rules = [{ metric: "accuracy/mean", window: 5, threshold: 0.5 }];
    expect(errorsOf({ ...base, curriculum: { stages: [{ shots: 3 }, { shots: 0 }], advanceRules: rules } })).toEqual([
      { path: "maxSteps", message: expect.stringContaining("needs an end") },
    ]);
    expect(validateRunConfig({ ...base, curriculum: { stages: [{ shots: 3 }, { shots: 0, maxSteps: 50 }], advanceRules: rules } }).ok).toBe(true);
  });
});

describe("run files", () => {
  it("point a nested typo at its line and column with the suggestion", () => {
    const text = [
      "experiment: e",
      "name: n",
      "config:",
      `  model: { path: /m.gguf }`,
      `  dataset: { id: ${base.dataset.id} }`,
      "  grpo:",
      "    lrr: 0.5",
      "",
    ].join("\n");
    let err: unknown;
    try {
      parseRunDefinition(text, "run.yaml");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).details).toEqual(['run.yaml:7:5: config.grpo.lrr: unknown key; did you mean "lr"?']);
  });
});
