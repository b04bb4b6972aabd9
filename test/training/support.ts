// Shared setup for training tests: the lookup task's corpus and dataset on disk, a tiny model, and
// a run config small enough for a few CPU seconds per step.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import {
  ArtifactsDocument,
  CreateApiKeyDocument,
  CreateDemonstrationSetDocument,
  CreateExperimentDocument,
  CreateRunDocument,
  ImportDatasetDocument,
  JobsDocument,
  MetricPointsDocument,
  RolloutsDocument,
  type IcrlClient,
  type MetricPointsQuery,
  type RolloutsQuery,
} from "../../client-sdk/src/index.js";
import { createLogger } from "../../server/logger.js";
import { writeTinyModel } from "../../worker/engine/tiny-model.js";
import { Worker } from "../../worker/runtime/worker.js";
import { LOOKUP_TEMPLATE, lookupDemonstrations, makeLookupItems, writeLookupFiles, type LookupItem } from "../../cli/demo/lookup-task.js";
import type { TestServer } from "../support/server.js";

export interface LookupSetup {
  items: LookupItem[];
  corpus: string;
  model: string;
  datasetId: string;
}

/**
 * Items 0-2 are the demonstrations, 3..n-valCount train, the rest validation. The model is a random
 * tiny one unless `model` names one already built (the learning tests' pre-trained bases).
 */
export async function setupLookup(
  t: Pick<TestServer, "admin">,
  dir: string,
  options: { count?: number; valCount?: number; seed?: number; model?: string } = {},
): Promise<LookupSetup> {
  const items = makeLookupItems(options.count ?? 24, options.seed ?? 5);
  const valCount = options.valCount ?? 4;
  const corpus = path.join(dir, "corpus.jsonl");
  await writeLookupFiles(items, { corpus });
  const dataset = path.join(dir, "lookup.jsonl");
  await writeFile(
    dataset,
    items
      .slice(3)
      .map((it, i, rest) =>
        JSON.stringify({ id: it.id, question: it.question, golden_answers: [it.code], split: i >= rest.length - valCount ? "val" : "train" }),
      )
      .join("\n") + "\n",
  );
  let model = options.model;
  if (!model) {
    model = path.join(dir, "tiny.gguf");
    writeTinyModel({ out: model, layers: 2, dim: 64, heads: 4, kvHeads: 2, ff: 128, context: 1024, seed: 3 });
  }
  const ds = await t.admin.mutate(ImportDatasetDocument, {
    input: { name: `lookup-${path.basename(dir)}`, kind: "QA", format: "JSONL", path: dataset },
  });
  return { items, corpus, model, datasetId: ds.importDataset.id };
}

/** The search tool over the lookup corpus, one result of at most 64 tokens. */
export function lookupTools(setup: LookupSetup) {
  return { search: { kind: "local" as const, corpus: setup.corpus, topK: 1, maxTokens: 64 } };
}

export function lookupRunConfig(setup: LookupSetup, overrides: Record<string, unknown> = {}) {
  return {
    model: { path: setup.model, contextSize: 1024 },
    task: "qa",
    dataset: { id: setup.datasetId, split: "train", validationSplit: "val" },
    tools: lookupTools(setup),
    template: LOOKUP_TEMPLATE,
    curriculum: {
      stages: [
        { shots: 2, steps: 2 },
        { shots: 0, steps: 2 },
      ],
    },
    grpo: { groupSize: 4, questionsPerStep: 2, lr: 1e-3 },
    lora: { rank: 8, alpha: 16 },
    rollout: { maxToolTurns: 1, maxTurnTokens: 24, maxTotalTokens: 120 },
    validation: { every: 2, size: 2 },
    checkpointEvery: 2,
    seed: 11,
    ...overrides,
  };
}

export function lookupDemoSet(setup: LookupSetup) {
  return lookupDemonstrations(setup.items.slice(0, 3));
}

/** A WORKER key for the test's workers. */
export async function workerKey(t: Pick<TestServer, "admin">, name = "worker"): Promise<string> {
  return (await t.admin.mutate(CreateApiKeyDocument, { name, role: "WORKER" })).createApiKey.secret;
}

/**
 * A CPU worker in this process, one job at a time, that may read the test's files (`dir`; its own data
 * in dir/worker unless `dataDir` says otherwise); `run()` ends when no job is left.
 */
export function testWorker(t: Pick<TestServer, "server">, options: { key: string; dir: string; name: string; dataDir?: string }): Worker {
  return new Worker({
    serverUrl: t.server.url,
    token: options.key,
    name: options.name,
    threads: 1,
    gpu: false,
    dataDir: options.dataDir ?? path.join(options.dir, "worker"),
    allowPaths: [options.dir],
    pollMs: 100,
    maxJobs: 1,
    logger: createLogger({ level: process.env.ICRL_TEST_LOG ?? "silent" }),
  });
}

// ---------------------------------------------------------------- learning tests: one full ICRL run

/**
 * The run both learning tests train (learning.test.ts on a byte vocabulary, real-tokenizer-learning
 * on Qwen3's): ICRL 3 -> 2 -> 0 shots over 20 steps, G = 8, zero-shot greedy validation of 24 held-out
 * questions at step 0 and at the end. Their thresholds were measured with exactly these settings.
 */
export const LEARNING_CURRICULUM = [
  { shots: 3, steps: 4 },
  { shots: 2, steps: 4 },
  { shots: 0, steps: 12 },
];
export const LEARNING_STEPS = LEARNING_CURRICULUM.reduce((n, s) => n + s.steps, 0);
export const LEARNING_HELD_OUT = 24;

/** The lookup task as the learning tests use it: 100 names (seed 7), 24 of them held out, on a pre-trained model. */
export function setupLearningLookup(t: Pick<TestServer, "admin">, dir: string, model: string): Promise<LookupSetup> {
  return setupLookup(t, dir, { count: 100, seed: 7, valCount: LEARNING_HELD_OUT, model });
}

/** Create the learning run in an experiment of its own; `rollout` is the only setting the two tests differ in. */
export async function createLearningRun(
  t: Pick<TestServer, "admin">,
  setup: LookupSetup,
  options: { name: string; rollout: { maxToolTurns: number; maxTurnTokens: number; maxTotalTokens: number } },
): Promise<string> {
  const set = await t.admin.mutate(CreateDemonstrationSetDocument, {
    input: { name: `lookup-${options.name}`, task: "QA", items: lookupDemoSet(setup).items },
  });
  const exp = await t.admin.mutate(CreateExperimentDocument, { name: options.name });
  const run = await t.admin.mutate(CreateRunDocument, {
    experimentId: exp.createExperiment.id,
    name: "icrl-3-2-0",
    config: lookupRunConfig(setup, {
      demonstrations: { setId: set.createDemonstrationSet.id, selection: "first" },
      curriculum: { stages: LEARNING_CURRICULUM },
      grpo: { groupSize: 8, questionsPerStep: 4, lr: 2e-3 },
      lora: { rank: 16, alpha: 16 },
      rollout: options.rollout,
      validation: { every: LEARNING_STEPS, size: LEARNING_HELD_OUT },
      checkpointEvery: LEARNING_STEPS,
      seed: 3,
    }),
  });
  return run.createRun.id;
}

/** One metric's points, by step. */
export function metricSeries(points: readonly MetricRow[], key: string): MetricRow[] {
  return points.filter((p) => p.key === key).sort((a, b) => a.step - b.step);
}

// ---------------------------------------------------------------- resume tests: reading a run back

export type RolloutRow = RolloutsQuery["rollouts"]["nodes"][number];
export type MetricRow = MetricPointsQuery["metricPoints"]["nodes"][number];

export async function allRollouts(client: IcrlClient, runId: string): Promise<RolloutRow[]> {
  const out: RolloutRow[] = [];
  let after: string | null = null;
  for (;;) {
    const page: RolloutsQuery = await client.query(RolloutsDocument, { runId, first: 200, after });
    out.push(...page.rollouts.nodes);
    if (!page.rollouts.pageInfo.hasNextPage) return out;
    after = page.rollouts.pageInfo.endCursor;
  }
}

/** Every metric point of a run in cursor (insertion) order. */
export async function allMetricPoints(client: IcrlClient, runId: string): Promise<MetricRow[]> {
  const out: MetricRow[] = [];
  let after: string | null = null;
  for (;;) {
    const page: MetricPointsQuery = await client.query(MetricPointsDocument, { runId, first: 5000, after });
    out.push(...page.metricPoints.nodes);
    if (!page.metricPoints.pageInfo.hasNextPage) return out;
    after = page.metricPoints.pageInfo.endCursor;
  }
}

export async function runJobs(client: IcrlClient, runId: string) {
  const res = await client.query(JobsDocument, { first: 200 });
  return res.jobs.nodes.filter((j) => j.run?.id === runId).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

export async function artifactSteps(client: IcrlClient, runId: string, kind: "CHECKPOINT" | "ADAPTER"): Promise<number[]> {
  const res = await client.query(ArtifactsDocument, { runId, kind });
  return res.artifacts.map((a) => a.step!).sort((a, b) => a - b);
}

export async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 120_000, intervalMs = 50): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The rollout identity the server deduplicates on. */
export const rolloutKey = (r: Pick<RolloutRow, "step" | "groupIndex" | "sampleIndex">) => `${r.step}/${r.groupIndex}/${r.sampleIndex}`;

/** Cursors compare as integers (they are Postgres bigint sequence values). */
export const cursorValue = (cursor: string) => BigInt(cursor);
