// One group of G sampled rollouts of a lookup base model on one question, straight on the engine (no
// server, no learner): how the prior benchmark (bench/support/search-rate.ts) and the real-tokenizer
// learning test look at what a model does with k worked examples before any training.
import type { DemonstrationSet } from "../../contracts/index.js";
import type { LlamaEngine } from "../../worker/engine/index.js";
import { runRolloutGroup, type RenderedPrompt, type RolloutResult } from "../../worker/icrl/index.js";
import type { Tool } from "../../worker/tools/index.js";
import { LOOKUP_TEMPLATE, lookupDemonstrations, renderLookupPrompt, type LookupItem } from "./lookup-task.js";

export interface LookupGroupOptions {
  /** Worked examples in the prompt: the first `shots` of `examples`. */
  shots: number;
  /** The worked examples: the task's first 3 items, or a demonstration set (the two-hop task's). */
  examples: readonly LookupItem[] | DemonstrationSet;
  groupSize: number;
  /** Sampling seed; temperature 1. */
  seed: number;
  rollout: { maxToolTurns: number; maxTurnTokens: number; maxTotalTokens: number };
}

export async function sampleLookupGroup(
  engine: LlamaEngine,
  search: Tool,
  item: Pick<LookupItem, "id" | "question">,
  options: LookupGroupOptions,
): Promise<{ prompt: RenderedPrompt; rollouts: RolloutResult[] }> {
  const demonstrations = "items" in options.examples ? options.examples : lookupDemonstrations(options.examples);
  const prompt = renderLookupPrompt(engine, item, options.shots, demonstrations);
  const group = await engine.openGroup(options.groupSize, { tokensPerSequence: prompt.tokens.length + options.rollout.maxTotalTokens + 8 });
  const { rollouts } = await runRolloutGroup(engine, group, prompt.tokens, {
    tools: [search],
    messages: LOOKUP_TEMPLATE,
    maxToolTurns: options.rollout.maxToolTurns,
    maxTokensPerTurn: options.rollout.maxTurnTokens,
    maxResponseTokens: options.rollout.maxTotalTokens,
    sampling: { temperature: 1, seed: options.seed },
  }).finally(() => group.dispose());
  return { prompt, rollouts };
}
