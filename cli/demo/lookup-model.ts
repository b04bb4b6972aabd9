// Builds the tiny model the learning test and the demo train: a random llama-architecture GGUF whose
// every weight is then pre-trained by the learner (base_pretrain.py) on lookup episodes with RANDOM
// codes. Pre-training teaches the format and the general skill "copy the name into the search, copy the
// code from the result into the answer"; it cannot teach any real item's code (codes are drawn afresh
// per episode). It also gives the model a habit to unlearn: without worked examples in the prompt it
// mostly answers at once with a guess (lookupEpisodes' guessRate). Same options => same bytes, in any
// process (seeded data, seeded init, single-threaded torch, tensors in name order: test/training/
// lookup-model-reproducible.test.ts).
import { rm } from "node:fs/promises";
import path from "node:path";
import { loadLlamaEngine, type Engine } from "../../worker/engine/index.js";
import { buildModel, writeTinyModel } from "../../worker/engine/files.js";
import type { PretrainBaseResult } from "../../worker/learner/index.js";
import { renderPrompt } from "../../worker/icrl/index.js";
import { LOOKUP_TEMPLATE, lookupEpisodes, type LookupEpisode } from "./lookup-task.js";
import { trajectorySequence } from "../../worker/training/index.js";
import type { LookupModelOptions } from "./lookup-recipes.js";
import { twoHopEpisodes } from "./two-hop-task.js";

export * from "./lookup-recipes.js";

/**
 * The architecture of the lookup model: ~0.43M parameters, byte-level vocabulary, tied embeddings at
 * std 3/sqrt(dim) (the writer's default N(0, 1) embeddings, tied or not, drown the attention outputs in
 * the residual stream: copying was not learned in 150 pre-training steps; at this scale by ~100).
 */
export const LOOKUP_MODEL_SHAPE = {
  layers: 2,
  dim: 128,
  heads: 4,
  kvHeads: 2,
  ff: 384,
  context: 1024,
  tiedEmbeddings: true,
  embeddingStd: 3 / Math.sqrt(128),
} as const;

/** Token ids and loss masks: prompt and tool results untrained, the model's own text trained. */
export function lookupPretrainSequences(engine: Pick<Engine, "tokenize" | "formatChat">, episodes: readonly LookupEpisode[], seed = 1) {
  // Worked examples always show the search: they are drawn from the episodes that do search.
  const examples = {
    name: "lookup-episodes",
    task: "qa" as const,
    items: episodes.filter((e) => !e.guess).map((e) => ({ question: e.question, trajectory: e.trajectory })),
  };
  const sequences: number[][] = [];
  const masks: number[][] = [];
  for (const e of episodes) {
    const prompt = renderPrompt(engine, {
      question: e.question,
      questionId: e.id,
      shots: e.shots,
      template: LOOKUP_TEMPLATE,
      demonstrations: examples,
      selection: "sampled",
      seed,
    });
    const { tokens, mask } = trajectorySequence(engine, prompt.tokens, e.trajectory);
    sequences.push(tokens);
    masks.push(mask);
  }
  return { sequences, masks };
}

/** Phase i's pre-training episodes, as buildLookupModel makes them (no model needed to count them). */
export function lookupPretrainEpisodes(
  options: Pick<LookupModelOptions, "phases" | "seed" | "episodesPerPhase" | "zeroShotSearchRate" | "task" | "twoHopShare">,
  i: number,
): LookupEpisode[] {
  const phase = options.phases[i];
  if (options.task === "two-hop") {
    if (options.zeroShotSearchRate !== undefined) throw new RangeError("zeroShotSearchRate is not available for the two-hop task");
    return twoHopEpisodes(options.episodesPerPhase ?? 1024, {
      seed: (options.seed ?? 1) + 101 * i,
      shots: phase.shots,
      guessRate: phase.guessRate,
      twoHopShare: options.twoHopShare,
    });
  }
  return lookupEpisodes(options.episodesPerPhase ?? 1024, {
    seed: (options.seed ?? 1) + 101 * i,
    shots: phase.shots,
    guessRate: phase.guessRate,
    zeroShotSearchRate: options.zeroShotSearchRate,
  });
}

export async function buildLookupModel(options: LookupModelOptions): Promise<PretrainBaseResult[]> {
  const seed = options.seed ?? 1;
  const random = path.join(path.dirname(options.out), `.${path.basename(options.out)}.random`);
  const total = options.phases.reduce((n, p) => n + p.steps, 0);
  const scale = (options.steps ?? total) / total;
  const tokenizer = options.tokenizer ?? "byte";
  if (tokenizer === "byte") writeTinyModel({ out: random, ...LOOKUP_MODEL_SHAPE, seed });
  else buildModel({ out: random, shape: "tiny", tokenizer, type: "f32", seed });
  try {
    // The engine only tokenises and applies the chat template, exactly as rollouts will.
    const engine = await loadLlamaEngine({ modelPath: random, threads: 1, gpu: false, contextSize: LOOKUP_MODEL_SHAPE.context });
    const data: { sequences: number[][]; masks: number[][] }[] = [];
    try {
      options.phases.forEach((_, i) => {
        const episodes = lookupPretrainEpisodes(options, i);
        data.push(lookupPretrainSequences(engine, episodes, seed + i));
      });
    } finally {
      await engine.dispose();
    }
    const results: PretrainBaseResult[] = [];
    for (const [i, phase] of options.phases.entries()) {
      results.push(
        await options.learner.pretrainBase({
          model_path: i === 0 ? random : options.out,
          out_path: options.out,
          ...data[i],
          steps: Math.max(1, Math.round(phase.steps * scale)),
          lr: options.lr ?? 3e-3,
          batch_size: options.batchSize ?? 16,
          seed: seed + i,
          threads: 1,
          // A real tokenizer's ~152k rows are nearly all of a step's cost; the data uses a few thousand.
          // The byte vocabulary is kept as it was, so the demo's model stays byte-for-byte the same.
          ...(tokenizer === "byte" ? {} : { unseen_rows: "zero" as const }),
        }),
      );
    }
    return results;
  } finally {
    await rm(random, { force: true });
  }
}
