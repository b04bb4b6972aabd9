// Shared setup for training tests: the lookup task's corpus and dataset on disk, a tiny model, and
// a run config small enough for a few CPU seconds per step.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { ImportDatasetDocument } from "../../client-sdk/index.js";
import { writeTinyModel } from "../../worker/engine/tiny-model.js";
import { LOOKUP_TEMPLATE, lookupDemonstrations, makeLookupItems, writeLookupFiles, type LookupItem } from "../../worker/training/lookup-task.js";
import type { TestServer } from "../support/server.js";

export interface LookupSetup {
  items: LookupItem[];
  corpus: string;
  model: string;
  datasetId: string;
}

/** Items 0-2 are the demonstrations, 3..n-valCount train, the rest validation. */
export async function setupLookup(t: TestServer, dir: string, options: { count?: number; valCount?: number; seed?: number } = {}): Promise<LookupSetup> {
  const items = makeLookupItems(options.count ?? 24, options.seed ?? 5);
  const valCount = options.valCount ?? 4;
  const corpus = path.join(dir, "corpus.jsonl");
  await writeLookupFiles(items, { corpus });
  const dataset = path.join(dir, "lookup.jsonl");
  await writeFile(
    dataset,
    items
      .slice(3)
      .map((it, i, rest) => JSON.stringify({ id: it.id, question: it.question, golden_answers: [it.code], split: i >= rest.length - valCount ? "val" : "train" }))
      .join("\n") + "\n",
  );
  const model = path.join(dir, "tiny.gguf");
  writeTinyModel({ out: model, layers: 2, dim: 64, heads: 4, kvHeads: 2, ff: 128, context: 1024, seed: 3 });
  const ds = await t.admin.mutate(ImportDatasetDocument, { input: { name: `lookup-${path.basename(dir)}`, kind: "QA", format: "JSONL", path: dataset } });
  return { items, corpus, model, datasetId: ds.importDataset.id };
}

export function lookupRunConfig(setup: LookupSetup, overrides: Record<string, unknown> = {}) {
  return {
    model: { path: setup.model, contextSize: 1024 },
    task: "qa",
    dataset: { id: setup.datasetId, split: "train", validationSplit: "val" },
    tools: { search: { kind: "local", corpus: setup.corpus, topK: 1, maxTokens: 64 } },
    template: LOOKUP_TEMPLATE,
    curriculum: { stages: [{ shots: 2, steps: 2 }, { shots: 0, steps: 2 }] },
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
