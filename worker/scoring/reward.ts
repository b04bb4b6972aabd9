// The ICRL reward of one rollout: wAcc * accuracy + wFmt * format (0.8 / 0.2 by default).
// It is computed on the RESPONSE only: the prompt holds demonstrations full of <answer> tags, and the
// paper's public code, which scored prompt + response, rewarded the demonstrations' answers.
// Accuracy is the metric applied to the last <answer> content of the model's own text (tool results
// removed); with no answer it is 0.
import { formatScore, type FormatOptions, type FormatPenalties } from "./format.js";
import { getScorer, type MetricName } from "./metrics.js";

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

/** What the metric sees. The gsm8k metric reads the number after "#### "; inside <answer> a model
 *  usually writes just the number, so a bare answer is read as "#### <answer>". */
function predictionFor(metric: MetricName, answer: string): string {
  if (metric === "gsm8k" && !answer.includes("####")) return `#### ${answer.trim()}`;
  return answer;
}

export function computeReward(response: string, golds: readonly string[], options: RewardOptions): RewardResult {
  const weights = { ...DEFAULT_REWARD_WEIGHTS, ...options.weights };
  if (!Number.isFinite(weights.accuracy) || !Number.isFinite(weights.format)) {
    throw new RangeError(`reward weights must be finite numbers, got ${JSON.stringify(weights)}`);
  }
  const fmt = formatScore(response, options.format);
  const scorer = getScorer(options.metric, { hotpotYesNo: options.hotpotYesNo });
  const accuracy = fmt.answer === null ? 0 : scorer(predictionFor(options.metric, fmt.answer), golds);
  return {
    reward: weights.accuracy * accuracy + weights.format * fmt.format,
    accuracy,
    format: fmt.format,
    answer: fmt.answer,
    components: fmt.penalties,
  };
}
