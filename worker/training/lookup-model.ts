// Builds the tiny model the learning test and the demo train: a random llama-architecture GGUF whose
// every weight is then pre-trained by the learner (base_pretrain.py) on lookup episodes with RANDOM
// codes. The pre-training teaches the format and the general skill "copy the name into the search,
// copy the code from the result into the answer"; it cannot teach any real item's code (codes are drawn
// afresh per episode). Stopped early, the model is right only sometimes, which leaves the RL run
// something to learn. Same options => same bytes (seeded data, seeded init, single-threaded torch).
import { rm } from "node:fs/promises";
import path from "node:path";
import { loadLlamaEngine } from "../engine/llama-engine.js";
import { writeTinyModel } from "../engine/tiny-model.js";
import type { LearnerDriver, PretrainBaseResult } from "../learner/driver.js";
import { LOOKUP_TEMPLATE, lookupEpisodes } from "./lookup-task.js";
import { warmStartSequences } from "./warm-start.js";

export interface LookupModelOptions {
  out: string;
  learner: LearnerDriver;
  /** Pre-training steps (mini-batches); ~100 gives a model that is right now and then, ~300 a good one. */
  steps: number;
  seed?: number;
  /** Demonstrations in the pre-training prompts, cycled over the episodes (default 0-3). */
  shots?: readonly number[];
  episodes?: number;
  lr?: number;
  batchSize?: number;
}

/** The architecture of the lookup model: ~0.43M parameters, byte-level vocabulary, tied embeddings. */
export const LOOKUP_MODEL_SHAPE = { layers: 2, dim: 128, heads: 4, kvHeads: 2, ff: 384, context: 1024, tiedEmbeddings: true } as const;

export async function buildLookupModel(options: LookupModelOptions): Promise<PretrainBaseResult> {
  const seed = options.seed ?? 1;
  const random = path.join(path.dirname(options.out), `.${path.basename(options.out)}.random`);
  writeTinyModel({ out: random, ...LOOKUP_MODEL_SHAPE, seed });
  try {
    // The engine only tokenises and applies the chat template, exactly as rollouts will.
    const engine = await loadLlamaEngine({ modelPath: random, threads: 1, gpu: false, contextSize: LOOKUP_MODEL_SHAPE.context });
    let data: { sequences: number[][]; masks: number[][] };
    try {
      data = warmStartSequences(engine, lookupEpisodes(options.episodes ?? 512, seed), LOOKUP_TEMPLATE, options.shots ?? [0, 1, 2, 3]);
    } finally {
      await engine.dispose();
    }
    return await options.learner.pretrainBase({
      model_path: random,
      out_path: options.out,
      ...data,
      steps: options.steps,
      lr: options.lr ?? 3e-3,
      batch_size: options.batchSize ?? 16,
      seed,
      threads: 1,
    });
  } finally {
    await rm(random, { force: true });
  }
}
