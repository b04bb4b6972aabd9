// The learning test (issue 4 §5): a real ICRL run through the server and a worker must make a tiny
// model better at a tool-use task, measurably and on questions it never trained on.
//
// The model: a 0.43M-parameter llama the test builds and pre-trains with the learner
// (cli/demo/lookup-model.ts, the same as the demo's) on lookup episodes with RANDOM codes. It
// can copy a code out of a search result, it searches when its prompt shows worked examples, and
// without examples it mostly answers at once with a guess (1 in 9 right). The task: "Code of KM?",
// where each name's code is random and only the search tool's corpus knows it, so a right answer
// needs a search and a copy of its result. The run: the ICRL curriculum 3 -> 2 -> 0 shots, GRPO with
// LoRA, rewards from the run's scorer; zero-shot greedy validation on held-out names at step 0 (before
// any update) and at the end.
//
// What must happen (thresholds below, with the figures measured when they were set):
// - the training reward rises from the first steps' mean to a clearly higher level;
// - at zero shots the model has learned to search: valid tool calls per rollout near 1 in the last
//   steps, and in the greedy held-out validation, where the base model guessed;
// - the final adapter answers more held-out questions than the base model did at step 0.
// Without learning none of this can pass: the base model's zero-shot greedy answers are guesses
// (no search), and its first-steps reward is the baseline the later steps are compared with.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunDocument } from "../../client-sdk/src/index.js";
import { LearnerDriver } from "../../worker/learner/driver.js";
import { buildLookupModel, LOOKUP_PRETRAINING } from "../../cli/demo/lookup-model.js";
import { startTestServer, type TestServer } from "../support/server.js";
import {
  allMetricPoints,
  createLearningRun,
  LEARNING_STEPS as TOTAL_STEPS,
  type LookupSetup,
  metricSeries,
  setupLearningLookup,
  testWorker,
  workerKey,
} from "./support.js";

let t: TestServer;
let dir: string;
let lookup: LookupSetup;

beforeAll(async () => {
  t = await startTestServer();
  dir = await mkdtemp(path.join(os.tmpdir(), "icrl-learning-"));
  await chmod(dir, 0o755);
  const model = path.join(dir, "lookup.gguf");
  const learner = LearnerDriver.start();
  try {
    await buildLookupModel({ ...LOOKUP_PRETRAINING, out: model, learner });
  } finally {
    await learner.shutdown();
  }
  // 100 names: 3 worked examples, 24 held out, 73 to train on. Codes are random digits.
  lookup = await setupLearningLookup(t, dir, model);
}, 900_000);

afterAll(async () => {
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe("ICRL learning", () => {
  it("a tiny model learns to use the search tool zero-shot and answers held-out questions better", { timeout: 1_200_000 }, async () => {
    const runId = await createLearningRun(t, lookup, { name: "learning", rollout: { maxToolTurns: 2, maxTurnTokens: 40, maxTotalTokens: 120 } });
    await testWorker(t, { key: await workerKey(t), dir, name: "learning" }).run();

    const final = (await t.admin.query(RunDocument, { id: runId })).run!;
    expect(final.error).toBeNull();
    expect(final.status).toBe("SUCCEEDED");
    expect(final.step).toBe(TOTAL_STEPS);

    const points = await allMetricPoints(t.admin, runId);
    const series = (k: string) => metricSeries(points, k);
    const values = (k: string) => series(k).map((p) => p.value);
    const reward = values("reward/mean");
    const tools = values("tools/valid_calls_per_rollout");
    const val = series("val/accuracy");
    const valTools = series("val/tool_calls_mean");
    const report = {
      reward: reward.map((r) => +r.toFixed(3)),
      tools: tools.map((x) => +x.toFixed(2)),
      val: val.map((p) => [p.step, p.value]),
      valTools: valTools.map((p) => [p.step, p.value]),
    };
    console.log("learning run", JSON.stringify(report));
    expect(reward).toHaveLength(TOTAL_STEPS);

    // Reward: the first 3 steps (3-shot; the pre-trained model searches in about half of its
    // rollouts) vs the last 4 (zero-shot). Measured when set: 0.48 -> 0.84, 0.43 -> 0.79, 0.43 -> 0.78
    // and 0.43 -> 0.74 (this test, four runs, before pre-training was made reproducible), 0.58 -> 0.88
    // and 0.42 -> 0.92 (two model seeds, the loop driven directly), 0.30 -> 0.86 (the demo), and
    // 0.19 -> 0.66 in a run whose pre-trained model searched in only 13% of its first rollouts. Since
    // pre-training gives the same bytes in any process (its tensor order no longer follows Python's
    // per-process string hash), the whole run is the same on this machine from one run to the next:
    // 0.53 -> 0.87, held-out 2 -> 22 of 24, twice, identical to the last digit (a CPU with other SIMD
    // kernels may still round differently). A guessing model earns about 0.25.
    const first = mean(reward.slice(0, 3));
    const last = mean(reward.slice(-4));
    expect(last - first, JSON.stringify(report)).toBeGreaterThanOrEqual(0.15);
    expect(last, JSON.stringify(report)).toBeGreaterThanOrEqual(0.65);

    // Zero-shot tool use: the base model guessed (greedy: 0 searches per question), the trained one
    // searches, also when sampling in the last steps.
    expect(valTools.map((p) => p.step)).toEqual([0, TOTAL_STEPS]);
    expect(valTools[0].value).toBeLessThanOrEqual(0.25);
    expect(valTools[1].value, JSON.stringify(report)).toBeGreaterThanOrEqual(0.8); // measured 0.96-1.0
    expect(mean(tools.slice(-4)), JSON.stringify(report)).toBeGreaterThanOrEqual(0.8); // measured 0.93-1.0

    // Held-out answers, zero-shot greedy: the adapter must beat the base by at least 10 of 24 questions
    // (measured 3 -> 20, 2 -> 20, 3 -> 17, 1 -> 21 of 24 in this test; 3 -> 19 in the demo). Guessing gets 1 in
    // 9 right; only searching and copying gets more.
    expect(val.map((p) => p.step)).toEqual([0, TOTAL_STEPS]);
    expect(val[1].value - val[0].value, JSON.stringify(report)).toBeGreaterThanOrEqual(0.4);
  });
});
