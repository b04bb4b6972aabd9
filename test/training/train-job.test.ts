// TRAIN jobs end to end: a real server, a real worker (engine, sandboxed tools, PyTorch learner),
// a curriculum with a stage change, checkpoints as artifacts, and the stable metric keys.
import { mkdtemp, rm, chmod } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ArtifactsDocument,
  CreateDemonstrationSetDocument,
  CreateExperimentDocument,
  CreateRunDocument,
  MetricPointsDocument,
  RolloutsDocument,
  RunDocument,
} from "../../client-sdk/src/index.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { lookupDemoSet, lookupRunConfig, runJobs, setupLookup, testWorker, workerKey, type LookupSetup } from "./support.js";

let t: TestServer;
let dir: string;
let setup: LookupSetup;

const REQUIRED_KEYS = [
  "reward/mean",
  "accuracy/mean",
  "format/mean",
  "tools/valid_calls_per_rollout",
  "tools/invalid_calls_per_rollout",
  "response/tokens_mean",
  "curriculum/shots",
  "curriculum/stage",
  "learner/loss",
  "learner/kl",
  "learner/entropy",
  "learner/clip_frac",
  "learner/grad_norm",
  "time/step_s",
  "val/accuracy",
];

beforeAll(async () => {
  t = await startTestServer();
  dir = await mkdtemp(path.join(os.tmpdir(), "icrl-train-"));
  await chmod(dir, 0o755);
  setup = await setupLookup(t, dir);
});

afterAll(async () => {
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("TRAIN job", () => {
  it("runs the curriculum, streams rollouts and metrics, stores checkpoints", { timeout: 600_000 }, async () => {
    const demos = lookupDemoSet(setup);
    const set = await t.admin.mutate(CreateDemonstrationSetDocument, { input: { name: "lookup", task: "QA", items: demos.items } });
    const exp = await t.admin.mutate(CreateExperimentDocument, { name: "train-e2e" });
    const run = await t.admin.mutate(CreateRunDocument, {
      experimentId: exp.createExperiment.id,
      name: "tiny",
      config: lookupRunConfig(setup, { demonstrations: { selection: "first", setId: set.createDemonstrationSet.id }, warmStart: { steps: 2 } }),
    });
    const runId = run.createRun.id;
    const worker = testWorker(t, { key: await workerKey(t, "w"), dir, name: "trainer" });
    await worker.run();

    const final = (await t.admin.query(RunDocument, { id: runId })).run!;
    expect(final.error).toBeNull();
    expect(final.status).toBe("SUCCEEDED");
    expect(final.step).toBe(4);

    const rollouts = await t.admin.query(RolloutsDocument, { runId, first: 100 });
    expect(rollouts.rollouts.totalCount).toBe(4 * 2 * 4);
    const keys = new Set(rollouts.rollouts.nodes.map((r) => `${r.step}/${r.groupIndex}/${r.sampleIndex}`));
    expect(keys.size).toBe(32);
    expect(rollouts.rollouts.nodes.map((r) => r.shots)).toEqual([...Array(16).fill(2), ...Array(16).fill(0)]);
    for (const r of rollouts.rollouts.nodes) {
      expect(r.segments.length).toBeGreaterThan(0);
      expect(r.rewardComponents).toHaveProperty("format");
    }

    const points = await t.admin.query(MetricPointsDocument, { runId, first: 2000 });
    const byKey = new Map<string, number[]>();
    for (const p of points.metricPoints.nodes) byKey.set(p.key, [...(byKey.get(p.key) ?? []), p.step]);
    for (const k of REQUIRED_KEYS) expect(byKey.has(k), k).toBe(true);
    expect(byKey.get("reward/mean")).toEqual([1, 2, 3, 4]);
    // Step 0 is the baseline before any RL update.
    expect(byKey.get("val/accuracy")).toEqual([0, 2, 4]);
    const shots = points.metricPoints.nodes.filter((p) => p.key === "curriculum/shots").map((p) => p.value);
    expect(shots).toEqual([2, 2, 0, 0]);

    const artifacts = await t.admin.query(ArtifactsDocument, { runId });
    const kinds = artifacts.artifacts.map((a) => `${a.kind}@${a.step}`).sort();
    expect(kinds).toEqual(["ADAPTER@2", "ADAPTER@4", "CHECKPOINT@2", "CHECKPOINT@4"]);
    // Each says which base model and LoRA shape it belongs to (a GGUF adapter alone does not).
    for (const a of artifacts.artifacts) expect(a.metadata).toMatchObject({ model: "tiny.gguf", lora: { rank: 8, alpha: 16 } });
  });

  it("a model file that does not exist fails the run once, naming model.path", { timeout: 300_000 }, async () => {
    const exp = await t.admin.mutate(CreateExperimentDocument, { name: "train-missing-model" });
    const missing = path.join(dir, "no-such-model.gguf");
    const run = await t.admin.mutate(CreateRunDocument, {
      experimentId: exp.createExperiment.id,
      name: "missing",
      config: lookupRunConfig(setup, { model: { path: missing } }),
    });
    const key = await workerKey(t, "w-missing");
    const worker = testWorker(t, { key, dir, name: "trainer-missing", dataDir: path.join(dir, "worker-missing") });
    await worker.run();
    const final = (await t.admin.query(RunDocument, { id: run.createRun.id })).run!;
    expect(final.status).toBe("FAILED");
    expect(final.error).toContain(missing);
    // The run's own setting, not the EVAL field it used to name.
    expect(final.error).toMatch(/model\.path must be the path of a GGUF file/);
    expect(final.error).not.toContain("benchmarkRun");
    // An input error: no retry can fix it.
    expect((await runJobs(t.admin, run.createRun.id)).map((j) => [j.status, j.attempts])).toEqual([["FAILED", 1]]);
  });
});
