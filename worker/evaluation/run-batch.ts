// Evaluates up to `parallel` questions at once: one EngineGroup whose sequences each hold a
// different question, so their decoding is batched by the engine. Each sequence runs the ICRL
// multi-turn loop on its own (runRolloutGroup over a one-sequence view of the group); a fresh group
// per batch gives every question clean sequences. With `samples` k > 1 each question gets k sequences
// and its score is their mean (avg@k).
import type { BenchmarkItemInput } from "../../client-sdk/src/index.js";
import type { Engine, EngineGroup } from "../engine/types.js";
import { renderPrompt } from "../icrl/prompt.js";
import { runRolloutGroup } from "../icrl/rollout.js";
import { fnv1a32 } from "../icrl/seeded-random.js";
import type { Tool } from "../tools/types.js";
import type { EvalPlan } from "./eval-plan.js";
import { averageSamples } from "./average-samples.js";
import { failedItem, scoreItem, type EvalItem } from "./score-item.js";

/** Room left at the end of a sequence (the engine keeps the last sampled token unevaluated). */
const SLACK_TOKENS = 8;
/** A question needs at least this many response tokens to be worth running. */
const MIN_RESPONSE_TOKENS = 16;

export async function evaluateBatch(
  engine: Engine,
  items: EvalItem[],
  plan: EvalPlan,
  tools: readonly Tool[],
  signal?: AbortSignal,
): Promise<BenchmarkItemInput[]> {
  const toolNames = tools.map((t) => t.name);
  const scoring = { metric: plan.metric, extraMetrics: plan.extraMetrics, toolNames, multiGold: plan.multiGold };
  const capacity = Math.min(plan.contextSize, engine.info.contextLength);
  const results: (BenchmarkItemInput | null)[] = items.map(() => null);
  const runnable: { slot: number; item: EvalItem; tokens: number[] }[] = [];

  items.forEach((item, slot) => {
    const prompt = renderPrompt(engine, {
      question: item.question,
      questionId: item.externalId,
      shots: plan.shots,
      template: plan.template,
      demonstrations: plan.demonstrations,
      chatTemplateArgs: plan.chatTemplateArgs,
    });
    if (prompt.tokens.length + MIN_RESPONSE_TOKENS + SLACK_TOKENS > capacity) {
      results[slot] = failedItem(
        item,
        `prompt of ${prompt.tokens.length} tokens does not fit a context of ${capacity}`,
        scoring,
        prompt.tokens.length,
      );
    } else runnable.push({ slot, item, tokens: prompt.tokens });
  });

  if (runnable.length > 0) {
    const longest = Math.max(...runnable.map((r) => r.tokens.length));
    const tokensPerSequence = Math.min(capacity, longest + plan.maxTotalTokens + SLACK_TOKENS);
    const k = plan.samples;
    const group = await engine.openGroup(runnable.length * k, { tokensPerSequence });
    try {
      await Promise.all(
        runnable.map(async ({ slot, item, tokens }, i) => {
          const samples = await Promise.all(
            Array.from({ length: k }, async (_, s) => {
              const sequence = group.sequences[i * k + s];
              // Each item has a prompt of its own: nothing is shared between the batch's sequences.
              const view: EngineGroup = { sequences: [sequence], appendShared: (t) => sequence.append([...t]), dispose: async () => {} };
              // Sample 0 keeps the seed a one-sample run has always used, so samples: 1 scores as before.
              const key = s === 0 ? `${plan.sampling.seed}:${item.index}` : `${plan.sampling.seed}:${item.index}:${s}`;
              const sampling = plan.sampling.seed === undefined ? plan.sampling : { ...plan.sampling, seed: fnv1a32(key) };
              const { rollouts } = await runRolloutGroup(engine, view, tokens, {
                tools,
                messages: plan.template,
                sampling,
                maxToolTurns: plan.maxToolTurns,
                maxTokensPerTurn: plan.maxTurnTokens,
                maxResponseTokens: Math.min(plan.maxTotalTokens, tokensPerSequence - tokens.length - SLACK_TOKENS),
                turnCapAction: plan.turnCapAction,
                loop: plan.loop,
                signal,
              });
              return scoreItem(item, rollouts[0], scoring);
            }),
          );
          results[slot] = averageSamples(samples);
        }),
      );
    } finally {
      await group.dispose();
    }
  }
  return results.map((r) => r!);
}
