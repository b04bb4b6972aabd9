// Sampled tool use of a lookup base model, measured directly on the engine (no server): groups of G
// rollouts at temperature 1 over distinct questions of the lookup task, with the learning test's
// template, corpus, demonstrations (the first 3 items, selection "first") and rollout limits.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { sampleLookupGroup } from "../../cli/demo/lookup-group.js";
import { makeLookupItems, writeLookupFiles } from "../../cli/demo/lookup-task.js";
import { loadLlamaEngine } from "../../worker/engine/index.js";
import { extractAnswer } from "../../worker/scoring/index.js";
import { buildTools } from "../../worker/tools/index.js";

const ROLLOUT = { maxToolTurns: 2, maxTurnTokens: 40, maxTotalTokens: 120 };

export interface SearchRateOptions {
  /** Worked examples in each prompt. */
  shots: number;
  /** Groups, each on its own question (at most 97: the items after the 3 demonstrations). */
  groups: number;
  groupSize: number;
  /** Sampling seed of the first group; group i uses seed + i. */
  seed: number;
}

export interface SearchRate {
  rollouts: number;
  /** Rollouts with at least one valid search call. */
  searched: number;
  /** Rollouts whose answer is the item's code. */
  correct: number;
}

export async function sampleSearchRate(modelPath: string, options: SearchRateOptions): Promise<SearchRate> {
  const items = makeLookupItems(100, 7);
  const questions = items.slice(3);
  if (options.groups > questions.length) throw new RangeError(`at most ${questions.length} groups (one question each)`);
  const dir = await mkdtemp(path.join(os.tmpdir(), "icrl-bench-search-rate-"));
  const corpus = path.join(dir, "corpus.jsonl");
  await writeLookupFiles(items, { corpus });
  const engine = await loadLlamaEngine({ modelPath, threads: 1, gpu: false, contextSize: 1024 });
  const tools = await buildTools({ search: { kind: "local", corpus, topK: 1, maxTokens: 64 } }, { countTokens: (s) => engine.tokenize(s).length });
  const search = tools.get("search")!;
  const rate: SearchRate = { rollouts: 0, searched: 0, correct: 0 };
  try {
    for (let g = 0; g < options.groups; g++) {
      const item = questions[g];
      const { rollouts } = await sampleLookupGroup(engine, search, item, {
        shots: options.shots,
        examples: items.slice(0, 3),
        groupSize: options.groupSize,
        seed: options.seed + g,
        rollout: ROLLOUT,
      });
      for (const r of rollouts) {
        rate.rollouts++;
        if (r.toolCallsValid > 0) rate.searched++;
        if (extractAnswer(r.modelText)?.trim() === item.code) rate.correct++;
      }
    }
    return rate;
  } finally {
    await tools.close();
    await engine.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}
