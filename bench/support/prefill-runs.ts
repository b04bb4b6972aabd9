// The rollout benchmark's 3-shot part: one group of G rollouts from a 3-shot prompt (the QA template
// with its default demonstrations), where the prompt is most of the work, timed with the prompt
// evaluated once and copied to the other sequences (the engine's default, sharedPrefill) against every
// sequence evaluating it (sharedPrefill: false, the old path), both engines in one process on one model.
// The rollouts of both must be identical (same seeds), and the shared path must evaluate the prompt
// once: prompt - 1 tokens on one sequence, then its last token on each of the G.
import path from "node:path";
import { loadLlamaEngine, type LlamaEngine } from "../../worker/engine/index.js";
import { writeTinyModel } from "../../worker/engine/tiny-model.js";
import { QA_SEARCH_DEMONSTRATIONS } from "../../worker/icrl/default-demonstrations.js";
import { QA_SEARCH_TEMPLATE, renderPrompt, type RolloutGroupResult, runRolloutGroup } from "../../worker/icrl/index.js";
import { progress, round } from "./stats.js";

/** Big enough that the prompt dominates, small enough for a few minutes on 2 shared cores. */
export const PREFILL_MODEL = { layers: 8, dim: 512, heads: 8, ff: 1536 } as const;
const GROUP = 8;
const SAMPLED = 64;
const REPEATS = 3;
/** Room for the tools-disabled notice (one token per byte) before the sampled turn. */
const INSERTED_ROOM = 512;

interface Trial {
  wallMs: number;
  promptTokensEvaluated: number;
  rollouts: string;
}

async function trial(engine: LlamaEngine, promptIds: number[], seed: number): Promise<Trial> {
  const group = await engine.openGroup(GROUP, { tokensPerSequence: promptIds.length + SAMPLED + INSERTED_ROOM });
  let result: RolloutGroupResult;
  try {
    // Tools off: the tools-disabled notice, then one turn of SAMPLED tokens per rollout.
    result = await runRolloutGroup(engine, group, promptIds, {
      tools: [],
      maxToolTurns: 0,
      maxTokensPerTurn: SAMPLED,
      maxResponseTokens: SAMPLED + INSERTED_ROOM,
      messages: QA_SEARCH_TEMPLATE,
      sampling: { temperature: 1, topK: 0, topP: 1, minP: 0, seed },
    });
  } finally {
    await group.dispose();
  }
  for (const r of result.rollouts) {
    if (r.finishReason === "error") throw new Error(`rollout failed: ${r.error}`);
    if (r.modelTokens === 0) throw new Error(`rollout ${r.sampleIndex} sampled nothing (${r.finishReason})`);
  }
  if (result.promptTokensEvaluated === undefined) throw new Error("the engine did not count prompt tokens");
  return {
    wallMs: result.wallMs,
    promptTokensEvaluated: result.promptTokensEvaluated,
    rollouts: JSON.stringify(result.rollouts.map((r) => r.responseIds)),
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];

export async function measurePrefill(
  dir: string,
  threads: number,
  gpu: false | "cuda" | "vulkan" | "metal",
  load: () => number,
): Promise<Record<string, number | string>> {
  const modelPath = path.join(dir, "prefill-8x512.gguf");
  writeTinyModel({ out: modelPath, ...PREFILL_MODEL, context: 8192, seed: 7 });
  const gpuLayers = gpu ? "max" : undefined;
  const shared = await loadLlamaEngine({ modelPath, threads, gpu, gpuLayers });
  const separate = await loadLlamaEngine({ modelPath, threads, gpu, gpuLayers, sharedPrefill: false });
  try {
    const prompt = renderPrompt(shared, {
      question: "Which river flows through the capital of Austria?",
      questionId: "prefill-bench",
      shots: 3,
      template: QA_SEARCH_TEMPLATE,
      demonstrations: QA_SEARCH_DEMONSTRATIONS,
    });
    const n = prompt.tokens.length;
    progress(`3-shot prefill: prompt ${n} tokens, G=${GROUP}, ${SAMPLED} sampled tokens each; warm-up`);
    await trial(shared, prompt.tokens, 999);
    await trial(separate, prompt.tokens, 999);
    const once: Trial[] = [];
    const each: Trial[] = [];
    for (let i = 0; i < REPEATS; i++) {
      // Alternate which path goes first, so a drift in the machine's load hits both alike.
      const pair = i % 2 === 0 ? [shared, separate] : [separate, shared];
      const first = await trial(pair[0], prompt.tokens, 1 + i);
      const second = await trial(pair[1], prompt.tokens, 1 + i);
      const [a, b] = pair[0] === shared ? [first, second] : [second, first];
      if (a.rollouts !== b.rollouts) throw new Error(`trial ${i + 1}: the shared prefill sampled other rollouts than the old path`);
      once.push(a);
      each.push(b);
      progress(`3-shot prefill #${i + 1}: once ${round(a.wallMs / 1000, 2)} s, each ${round(b.wallMs / 1000, 2)} s (load ${round(load(), 1)})`);
    }
    const evaluated = once[0].promptTokensEvaluated;
    if (once.some((t) => t.promptTokensEvaluated !== n - 1 + GROUP))
      throw new Error(`shared prefill evaluated ${evaluated} prompt tokens, expected ${n - 1 + GROUP}`);
    const onceS = median(once.map((t) => t.wallMs)) / 1000;
    const eachS = median(each.map((t) => t.wallMs)) / 1000;
    return {
      shot3_model: `${PREFILL_MODEL.layers}x${PREFILL_MODEL.dim}, byte vocabulary`,
      shot3_prompt_tokens: n,
      shot3_group_size: GROUP,
      shot3_sampled_tokens_per_rollout: SAMPLED,
      shot3_prompt_tokens_evaluated_shared: evaluated,
      shot3_prompt_tokens_evaluated_old: each[0].promptTokensEvaluated,
      shot3_group_s_shared: round(onceS, 2),
      shot3_group_s_old: round(eachS, 2),
      shot3_speedup: round(median(once.map((t, i) => each[i].wallMs / t.wallMs)), 2),
      shot3_same_rollouts: "yes",
    };
  } finally {
    await shared.dispose();
    await separate.dispose();
  }
}
