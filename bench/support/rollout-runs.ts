// The three runs the rollout benchmark compares, each on a fresh group of G sequences from the same
// prompt, timed from the first evaluation to the last sampled token (opening and closing the context
// are not timed):
//   loop:   runRolloutGroup with real tools on the engine (what a worker does);
//   raw:    node-llama-cpp directly, each sequence sampling in one go exactly as many tokens as its
//           rollout sampled: no turns, no stop strings, no tools, no inserted text;
//   replay: node-llama-cpp directly, each sequence replaying its rollout's shape: the same inserted
//           token ids evaluated at the same places and the same number of tokens sampled per turn,
//           without stop strings, parsing or tools. loop / replay is the loop's own overhead;
//           replay / raw is what evaluating tool results and corrections costs.
import type { LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import type { Engine } from "../../worker/engine/index.js";
import { type RolloutResult, runRolloutGroup, type RolloutOptions } from "../../worker/icrl/index.js";

/** One sequence's rollout as the engine saw it: turns of sampled tokens, each after some inserted ids. */
export interface RolloutShape {
  turns: { inserted: number[]; sampled: number }[];
}

export interface LoopRun {
  wallMs: number;
  sampledTokens: number;
  shapes: RolloutShape[];
  rollouts: RolloutResult[];
}

export interface TimedRun {
  wallMs: number;
  sampledTokens: number;
}

/** Split responseIds by loss mask into (inserted run, sampled run) pairs. */
export function shapeOf(rollout: Pick<RolloutResult, "responseIds" | "lossMask">): RolloutShape {
  const turns: RolloutShape["turns"] = [];
  let inserted: number[] = [];
  let sampled = 0;
  rollout.lossMask.forEach((mask, i) => {
    if (mask === 1) {
      sampled++;
      return;
    }
    if (sampled > 0) {
      turns.push({ inserted, sampled });
      inserted = [];
      sampled = 0;
    }
    inserted.push(rollout.responseIds[i]);
  });
  if (sampled > 0) turns.push({ inserted, sampled });
  return { turns };
}

export async function runLoop(
  engine: Engine,
  size: number,
  tokensPerSequence: number,
  promptIds: number[],
  options: RolloutOptions,
): Promise<LoopRun> {
  const group = await engine.openGroup(size, { tokensPerSequence });
  try {
    const result = await runRolloutGroup(engine, group, promptIds, options);
    for (const r of result.rollouts) if (r.finishReason === "error") throw new Error(`rollout failed: ${r.error}`);
    return {
      wallMs: result.wallMs,
      sampledTokens: result.rollouts.reduce((n, r) => n + r.modelTokens, 0),
      shapes: result.rollouts.map(shapeOf),
      rollouts: result.rollouts,
    };
  } finally {
    await group.dispose();
  }
}

/** The context options the engine uses for a group (see LlamaEngine.contextOptions), so raw runs decode alike. */
export interface RawContextOptions {
  threads: number;
  tokensPerSequence: number;
  /** The engine's setting (LlamaEngine.flashAttention): off on the CPU backend, the library's "auto" on GPUs. */
  flashAttention: boolean | "auto";
}

/** Evaluate `input`, then sample `count` tokens; returns the last one (not yet evaluated, as in the engine). */
async function sample(sequence: LlamaContextSequence, input: Token[], count: number, seed: number): Promise<Token> {
  let last: Token | undefined;
  let n = 0;
  const tokens = sequence.evaluate(input, { temperature: 1, topK: 0, topP: 1, minP: 0, seed, yieldEogToken: true });
  for await (const token of tokens) {
    last = token;
    if (++n >= count) break;
  }
  if (last === undefined || n !== count) throw new Error(`sampled ${n} of ${count} tokens`);
  return last;
}

async function timedOnContext(
  model: LlamaModel,
  shapes: RolloutShape[],
  context: RawContextOptions,
  perSequence: (sequence: LlamaContextSequence, shape: RolloutShape, index: number) => Promise<void>,
): Promise<TimedRun> {
  const ctx = await model.createContext({
    sequences: shapes.length,
    contextSize: context.tokensPerSequence,
    threads: context.threads,
    flashAttention: context.flashAttention,
    failedCreationRemedy: false,
  });
  try {
    const sequences = shapes.map(() => ctx.getSequence());
    const started = performance.now();
    await Promise.all(shapes.map((shape, i) => perSequence(sequences[i], shape, i)));
    const wallMs = performance.now() - started;
    const sampledTokens = shapes.reduce((n, s) => n + s.turns.reduce((m, t) => m + t.sampled, 0), 0);
    return { wallMs, sampledTokens };
  } finally {
    await ctx.dispose();
  }
}

export function runRaw(model: LlamaModel, promptIds: number[], shapes: RolloutShape[], context: RawContextOptions, seed: number): Promise<TimedRun> {
  return timedOnContext(model, shapes, context, async (sequence, shape, i) => {
    const total = shape.turns.reduce((n, t) => n + t.sampled, 0);
    if (total > 0) await sample(sequence, promptIds as Token[], total, seed + i);
  });
}

export function runReplay(
  model: LlamaModel,
  promptIds: number[],
  shapes: RolloutShape[],
  context: RawContextOptions,
  seed: number,
): Promise<TimedRun> {
  return timedOnContext(model, shapes, context, async (sequence, shape, i) => {
    let pending: number[] = [...promptIds];
    for (const [turn, { inserted, sampled }] of shape.turns.entries()) {
      pending.push(...inserted);
      const last = await sample(sequence, pending as Token[], sampled, seed + 1000 * i + turn);
      pending = [last];
    }
  });
}
