// Sampled tool use of a lookup base model, measured directly on the engine (no server): groups of G
// rollouts at temperature 1 over distinct questions of the lookup task, with the learning test's
// template, corpus, demonstrations (the first 3 items, selection "first") and rollout limits; or of its
// two-hop variant, with that task's corpus, worked examples and limits (REPLICATION.md's two-hop study).
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { sampleLookupGroup } from "../../cli/demo/lookup-group.js";
import { makeLookupItems, writeLookupFiles } from "../../cli/demo/lookup-task.js";
import { makeTwoHopTask, TWO_HOP_ROLLOUT, twoHopDemonstrations, writeTwoHopFiles } from "../../cli/demo/two-hop-task.js";
import { loadLlamaEngine } from "../../worker/engine/index.js";
import { extractAnswer } from "../../worker/scoring/index.js";
import { buildTools } from "../../worker/tools/index.js";

const ROLLOUT = { maxToolTurns: 2, maxTurnTokens: 40, maxTotalTokens: 120 };

export interface SearchRateOptions {
  /** The lookup task (default) or its two-hop variant (its questions, worked examples and rollout limits). */
  task?: "lookup" | "two-hop";
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
  /** Rollouts with two or more. */
  searchedTwice: number;
  /** Rollouts whose answer is the item's code. */
  correct: number;
}

export async function sampleSearchRate(modelPath: string, options: SearchRateOptions): Promise<SearchRate> {
  const twoHop = options.task === "two-hop" ? makeTwoHopTask() : null;
  const items = makeLookupItems(100, 7);
  const questions = twoHop ? twoHop.questions : items.slice(3);
  const examples = twoHop ? twoHopDemonstrations(twoHop.examples) : items.slice(0, 3);
  const rollout = twoHop ? TWO_HOP_ROLLOUT : ROLLOUT;
  if (options.groups > questions.length) throw new RangeError(`at most ${questions.length} groups (one question each)`);
  const dir = await mkdtemp(path.join(os.tmpdir(), "icrl-bench-search-rate-"));
  const corpus = path.join(dir, "corpus.jsonl");
  if (twoHop) await writeTwoHopFiles(twoHop, { corpus });
  else await writeLookupFiles(items, { corpus });
  const engine = await loadLlamaEngine({ modelPath, threads: 1, gpu: false, contextSize: 1024 });
  const tools = await buildTools({ search: { kind: "local", corpus, topK: 1, maxTokens: 64 } }, { countTokens: (s) => engine.tokenize(s).length });
  const search = tools.get("search")!;
  const rate: SearchRate = { rollouts: 0, searched: 0, searchedTwice: 0, correct: 0 };
  try {
    for (let g = 0; g < options.groups; g++) {
      const item = questions[g];
      const { rollouts } = await sampleLookupGroup(engine, search, item, {
        shots: options.shots,
        examples,
        groupSize: options.groupSize,
        seed: options.seed + g,
        rollout,
      });
      for (const r of rollouts) {
        rate.rollouts++;
        if (r.toolCallsValid > 0) rate.searched++;
        if (r.toolCallsValid > 1) rate.searchedTwice++;
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
