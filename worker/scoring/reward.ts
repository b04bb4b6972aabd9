// The ICRL reward of one rollout: wAcc * accuracy + wFmt * format (0.8 / 0.2 by default).
// It is computed on the RESPONSE only by default: the prompt holds demonstrations full of <answer> tags,
// and the paper's public code, which scored prompt + response, rewarded the demonstrations' answers
// (reward.scope "promptAndResponse" reproduces that; see rewardText).
// Accuracy is the metric applied to the last <answer> content of the model's own text (tool results
// removed); with no answer it is 0.
import type { MultiGold, RewardScope } from "../../contracts/index.js";
import { accuracyOf } from "./accuracy.js";
import { formatScore, type FormatOptions, type FormatPenalties } from "./format.js";
import type { MetricName } from "./metrics.js";

export interface RewardWeights {
  accuracy: number;
  format: number;
}

export const DEFAULT_REWARD_WEIGHTS: Readonly<RewardWeights> = Object.freeze({ accuracy: 0.8, format: 0.2 });

export interface RewardOptions {
  metric: MetricName;
  weights?: Partial<RewardWeights>;
  format?: FormatOptions;
  /** f1 only: HotpotQA's yes/no/noanswer rule. */
  hotpotYesNo?: boolean;
  /** Several golds: "any" (default) or "containsAll" (scoring/accuracy.ts). */
  multiGold?: MultiGold;
}

export interface RewardResult {
  reward: number;
  accuracy: number;
  format: number;
  /** The answer that was scored (null when the response has no complete <answer> pair). */
  answer: string | null;
  /** The format penalties applied (0 for each check that passed). */
  components: FormatPenalties;
}

/**
 * The text a reward is computed on. "response": the model's own text. "promptAndResponse": the rendered
 * prompt followed by it, as the official code decoded them: the demonstrations then supply <think>,
 * <search> and <answer> pairs (most format penalties cannot fire), and a response without an answer is
 * scored on the prompt's last one.
 */
export function rewardText(scope: RewardScope, promptText: string, response: string): string {
  return scope === "promptAndResponse" ? promptText + response : response;
}

export function computeReward(response: string, golds: readonly string[], options: RewardOptions): RewardResult {
  const weights = { ...DEFAULT_REWARD_WEIGHTS, ...options.weights };
  if (!Number.isFinite(weights.accuracy) || !Number.isFinite(weights.format)) {
    throw new RangeError(`reward weights must be finite numbers, got ${JSON.stringify(weights)}`);
  }
  const fmt = formatScore(response, options.format);
  const accuracy = accuracyOf(fmt.answer, golds, options);
  return {
    reward: weights.accuracy * accuracy + weights.format * fmt.format,
    accuracy,
    format: fmt.format,
    answer: fmt.answer,
    components: fmt.penalties,
  };
}
