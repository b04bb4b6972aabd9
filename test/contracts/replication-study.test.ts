// examples/icrl-replication.yaml runs 40 runs (an hour and more on 2 cores: REPLICATION.md records
// them), so CI cannot run it; here it must at least be the controlled comparison its comments and
// REPLICATION.md promise: over the demo's run file, as `npm run replicate` fills it in, 4 arms x 5 seeds
// that differ only in their curriculum, each with as many steps, and a base model chosen by --set.
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { fillPlaceholders } from "../../cli/demo/experiment-file.js";
import { LOOKUP_TEMPLATE } from "../../cli/demo/lookup-task.js";
import { twoHopRunSettings } from "../../cli/demo/two-hop-task.js";
import { readStudyDefinition } from "../../cli/support/study-file.js";
import { planStudy } from "../../contracts/index.js";
import { PROJECT_ROOT } from "../../server/main.js";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "icrl-replication-study-"));
  const demoFile = path.join(PROJECT_ROOT, "examples/demo-experiment.yaml");
  const filled = fillPlaceholders(await readFile(demoFile, "utf8"), demoFile, {
    DEMO_DIR: "/data/replication",
    DATASET_ID: "6f1c2b8e-1d2a-4c3b-9e8f-0a1b2c3d4e5f",
    DEMONSTRATION_SET_ID: "7a2d3c9f-2e3b-4d4c-8f9a-1b2c3d4e5f60",
    LOOKUP_TEMPLATE: JSON.stringify(LOOKUP_TEMPLATE),
  });
  await writeFile(path.join(dir, "demo-experiment.yaml"), filled);
  await copyFile(path.join(PROJECT_ROOT, "examples/icrl-replication.yaml"), path.join(dir, "icrl-replication.yaml"));
});

afterAll(() => rm(dir, { recursive: true, force: true }));

it("is 4 arms x 5 seeds over the demo's run file, differing only in the curriculum, all 20 steps", async () => {
  const { definition } = await readStudyDefinition(path.join(dir, "icrl-replication.yaml"), {
    set: ["model.path=/data/replication/never-searching.gguf"],
  });
  expect(definition.baselineArm).toBe("icrl-3-2-0");
  const plan = planStudy({ baseConfig: definition.baseConfig, arms: definition.arms, seeds: definition.seeds, baselineArm: definition.baselineArm });
  if (!plan.ok) throw new Error(JSON.stringify(plan.errors));
  expect(plan.runs).toHaveLength(20);
  const schedule = (arm: string) => plan.runs.find((r) => r.arm === arm)!.config.curriculum!.stages.map((s) => [s.shots, s.steps]);
  expect(schedule("icrl-3-2-0")).toEqual([
    [3, 4],
    [2, 4],
    [0, 12],
  ]);
  expect(schedule("zero-shot-rl")).toEqual([[0, 20]]);
  expect(schedule("icrl-3-2-1-0")).toEqual([
    [3, 4],
    [2, 4],
    [1, 4],
    [0, 8],
  ]);
  expect(schedule("k-shot-kept")).toEqual([[3, 20]]);

  // Everything but the curriculum and the seed is the same in every run, the base model included.
  const rest = plan.runs.map(({ config }) => JSON.stringify({ ...config, curriculum: undefined, seed: undefined }));
  expect(new Set(rest).size).toBe(1);
  expect(plan.runs[0].config.model.path).toBe("/data/replication/never-searching.gguf");
  expect(plan.runs[0].config.grpo).toMatchObject({ groupSize: 8, questionsPerStep: 4 });
  // Judged alike: zero-shot greedy validation on the 24 held-out questions, at the end too.
  expect(plan.runs[0].config.validation).toMatchObject({ every: 4, size: 24 });
  expect(new Set(plan.runs.map((r) => `${r.arm}/${r.seed}`)).size).toBe(20);
  expect([...new Set(plan.runs.map((r) => r.seed))].sort()).toEqual([1, 2, 3, 4, 5]);
});

it("runs on the two-hop task with the driver's settings: only its data and room for a second search change", async () => {
  const file = path.join(dir, "icrl-replication.yaml");
  const plain = await readStudyDefinition(file, { set: ["model.path=/data/replication/two-hop.gguf"] });
  const ids = {
    datasetId: "8b3e4d0a-3f4c-4e5d-9a0b-2c3d4e5f6071",
    demonstrationSetId: "9c4f5e1b-4a5d-4f6e-8b1c-3d4e5f607182",
    corpus: "/data/two-hop.jsonl",
  };
  const twoHop = await readStudyDefinition(file, { set: ["model.path=/data/replication/two-hop.gguf", ...twoHopRunSettings(ids)] });
  const plan = planStudy({
    baseConfig: twoHop.definition.baseConfig,
    arms: twoHop.definition.arms,
    seeds: twoHop.definition.seeds,
    baselineArm: "icrl-3-2-0",
  });
  if (!plan.ok) throw new Error(JSON.stringify(plan.errors));
  const config = plan.runs[0].config;
  expect(config.dataset.id).toBe(ids.datasetId);
  expect(config.demonstrations?.setId).toBe(ids.demonstrationSetId);
  expect(config.tools.search).toMatchObject({ kind: "local", corpus: ids.corpus, topK: 1 });
  // Two searches and an answer fit: a search turn and its observation are ~60 tokens of the byte vocabulary.
  expect(config.rollout).toMatchObject({ maxToolTurns: 3, maxTurnTokens: 40, maxTotalTokens: 200 });
  const { dataset, demonstrations, tools, rollout, ...rest } = twoHop.definition.baseConfig;
  const { dataset: d0, demonstrations: m0, tools: t0, rollout: r0, ...rest0 } = plain.definition.baseConfig;
  expect(rest).toEqual(rest0);
  expect(twoHop.definition.arms).toEqual(plain.definition.arms);
});
