// Public surface of the scoring package: metrics by name, the ICRL format score and the reward.
export { scorers, getScorer, isMetricName, METRIC_NAMES } from "./metrics.js";
export type { MetricName, MetricOptions, Scorer } from "./metrics.js";
export { normalizeAnswer } from "./normalize.js";
export { em, f1, f1Single, subem } from "./qa.js";
export type { F1Options } from "./qa.js";
export { mathEquiv, mathAnswerOf, gsm8k, extractGsm8kAnswer, gsm8kGoldAnswer } from "./math.js";
export { stripMathString, isEquivStrings } from "./math-normalize.js";
export { lastBoxed } from "./boxed.js";
export {
  formatScore,
  extractAnswer,
  removeInsertedBlocks,
  DEFAULT_FORMAT_PENALTIES,
  DEFAULT_TOOL_TAGS,
  DEFAULT_INSERTED_TAGS,
} from "./format.js";
export type { FormatOptions, FormatPenalties, FormatResult } from "./format.js";
export { computeReward, rewardText, DEFAULT_REWARD_WEIGHTS } from "./reward.js";
export { accuracyOf, containsAllGolds, predictionFor } from "./accuracy.js";
export type { AccuracyOptions } from "./accuracy.js";
export type { RewardOptions, RewardResult, RewardWeights } from "./reward.js";
