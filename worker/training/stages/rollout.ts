// Stage "rollout": G sampled trajectories per prompt, tools included, one engine group at a time.
import type { PromptTemplate, RunConfig } from "../../../contracts/index.js";
import type { Engine, SamplingOptions } from "../../engine/types.js";
import type { RenderedPrompt } from "../../icrl/prompt.js";
import { runRolloutGroup, type RolloutOptions } from "../../icrl/rollout.js";
import type { RolloutResult } from "../../icrl/rollout-trace.js";
import type { Tool } from "../../tools/types.js";
import { JobInputError } from "../../runtime/errors.js";

export interface RolloutSettings {
  config: RunConfig;
  tools: readonly Tool[];
  template: PromptTemplate;
}

/**
 * A group's sampling seed depends on (run seed, step, group) alone, so a resumed run samples what the
 * lost steps would have sampled.
 */
export function rolloutSeed(runSeed: number, step: number, group: number): number {
  let h = (runSeed ^ 0x5bd1e995) >>> 0;
  for (const v of [step, group]) {
    h = Math.imul(h ^ v, 0x9e3779b1) >>> 0;
    h ^= h >>> 15;
  }
  return h >>> 0;
}

/** The run config's rollout limits with the given sampling (training samples, validation is greedy). */
export function rolloutOptions(settings: RolloutSettings, sampling: SamplingOptions): RolloutOptions {
  const { rollout } = settings.config;
  return {
    tools: settings.tools,
    maxToolTurns: rollout.maxToolTurns,
    maxTokensPerTurn: rollout.maxTurnTokens,
    maxResponseTokens: rollout.maxTotalTokens,
    turnCapAction: rollout.turnCapAction,
    loop: rollout.loop,
    sampling,
    messages: settings.template,
  };
}

/** Runs `size` rollouts of one prompt in a group sized for prompt plus the whole response budget. */
export async function rolloutGroup(
  engine: Engine,
  prompt: RenderedPrompt,
  size: number,
  settings: RolloutSettings,
  sampling: SamplingOptions,
): Promise<RolloutResult[]> {
  // model.contextSize bounds each sequence: the prompt must fit with room to answer, and the
  // response budget is cut to what is left rather than growing the context past it.
  const contextSize = settings.config.model.contextSize;
  if (prompt.tokens.length + 8 > contextSize) {
    throw new JobInputError(
      `the prompt (${prompt.demonstrationIndices.length}-shot) has ${prompt.tokens.length} tokens, more than model.contextSize ${contextSize} leaves room for: raise model.contextSize (the model was trained for ${engine.info.contextLength}) or use fewer shots`,
    );
  }
  const tokensPerSequence = Math.min(contextSize, prompt.tokens.length + settings.config.rollout.maxTotalTokens + 8);
  const group = await engine.openGroup(size, { tokensPerSequence });
  try {
    return (await runRolloutGroup(engine, group, prompt.tokens, rolloutOptions(settings, sampling))).rollouts;
  } finally {
    await group.dispose();
  }
}

export async function runRollouts(
  engine: Engine,
  prompts: readonly RenderedPrompt[],
  step: number,
  settings: RolloutSettings,
): Promise<RolloutResult[][]> {
  const { config } = settings;
  const groups: RolloutResult[][] = [];
  for (const [groupIndex, prompt] of prompts.entries()) {
    groups.push(
      await rolloutGroup(engine, prompt, config.grpo.groupSize, settings, {
        temperature: config.rollout.temperature,
        topK: config.rollout.topK,
        topP: config.rollout.topP,
        minP: 0,
        seed: rolloutSeed(config.seed, step, groupIndex),
      }),
    );
  }
  return groups;
}

/** Seconds the rollouts spent waiting on tools. */
export function toolSeconds(groups: readonly RolloutResult[][]): number {
  let ms = 0;
  for (const group of groups) for (const r of group) ms += r.timing.toolMs;
  return ms / 1000;
}
