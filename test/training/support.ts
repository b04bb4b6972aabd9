// Shared setup for training tests: the lookup task's corpus and dataset on disk, a tiny model, and
// a run config small enough for a few CPU seconds per step.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import {
  ArtifactsDocument,
  ImportDatasetDocument,
  JobsDocument,
  MetricPointsDocument,
  RolloutsDocument,
  type IcrlClient,
  type MetricPointsQuery,
  type RolloutsQuery,
} from "../../client-sdk/src/index.js";
import { writeTinyModel } from "../../worker/engine/tiny-model.js";
import { LOOKUP_TEMPLATE, lookupDemonstrations, makeLookupItems, writeLookupFiles, type LookupItem } from "../../cli/demo/lookup-task.js";
import type { TestServer } from "../support/server.js";

export interface LookupSetup {
  items: LookupItem[];
  corpus: string;
  model: string;
  datasetId: string;
}

/** Items 0-2 are the demonstrations, 3..n-valCount train, the rest validation. */
export async function setupLookup(
  t: Pick<TestServer, "admin">,
  dir: string,
  options: { count?: number; valCount?: number; seed?: number } = {},
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
  const model = path.join(dir, "tiny.gguf");
  writeTinyModel({ out: model, layers: 2, dim: 64, heads: 4, kvHeads: 2, ff: 128, context: 1024, seed: 3 });
  const ds = await t.admin.mutate(ImportDatasetDocument, {
    input: { name: `lookup-${path.basename(dir)}`, kind: "QA", format: "JSONL", path: dataset },
  });
  return { items, corpus, model, datasetId: ds.importDataset.id };
}

export function lookupRunConfig(setup: LookupSetup, overrides: Record<string, unknown> = {}) {
  return {
    model: { path: setup.model, contextSize: 1024 },
    task: "qa",
    dataset: { id: setup.datasetId, split: "train", validationSplit: "val" },
    tools: { search: { kind: "local", corpus: setup.corpus, topK: 1, maxTokens: 64 } },
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
