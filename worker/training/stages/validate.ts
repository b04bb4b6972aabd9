// Stage "validate": zero-shot greedy accuracy on held-out questions (the paper evaluates zero-shot),
// at step 0 and every `validation.every` steps.
import { METRIC, rewardMetricOf, type RunConfig } from "../../../contracts/index.js";
import { renderPrompt } from "../../icrl/prompt.js";
import { computeReward } from "../../scoring/reward.js";
import type { TrainingItem, TrainingOptions } from "../types.js";
import { rolloutGroup } from "./rollout.js";

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

export async function evaluateZeroShot(
  options: Pick<TrainingOptions, "engine" | "tools" | "template" | "config">,
  items: readonly TrainingItem[],
): Promise<{ accuracy: number; toolCallsMean: number }> {
  const { engine, config } = options;
  const accuracies: number[] = [];
  const calls: number[] = [];
  for (const item of items) {
    const prompt = renderPrompt(engine, {
      question: item.question,
      questionId: item.id,
      shots: 0,
      template: options.template,
      chatTemplateArgs: config.model.chatTemplateArgs,
    });
    const [rollout] = await rolloutGroup(engine, prompt, 1, options, { temperature: 0, seed: 0 });
    const r = computeReward(rollout.modelText, item.golds, {
      metric: rewardMetricOf(config),
      format: { toolTags: options.tools.map((t) => t.name) },
      multiGold: config.reward.multiGold,
    });
    accuracies.push(r.accuracy);
    calls.push(rollout.toolCallsValid);
  }
  return { accuracy: mean(accuracies), toolCallsMean: mean(calls) };
}

/** Whether `step` validates; step 0 is the model before any RL update, the baseline of every later one. */
export function validationDue(config: RunConfig, step: number, validation: readonly TrainingItem[]): boolean {
  return config.validation.every > 0 && step % config.validation.every === 0 && validation.length > 0;
}

export async function validationMetrics(
  options: Pick<TrainingOptions, "engine" | "tools" | "template" | "config" | "validation">,
): Promise<Record<string, number>> {
  const val = await evaluateZeroShot(options, options.validation.slice(0, options.config.validation.size));
  return { [METRIC.valAccuracy]: val.accuracy, [METRIC.valToolCalls]: val.toolCallsMean };
}
