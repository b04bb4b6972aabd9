// Stage "score": the reward of each rollout, on the model's own text against the question's golds.
import type { RunConfig } from "../../../contracts/index.js";
import type { RolloutResult } from "../../icrl/rollout-trace.js";
import type { MetricName } from "../../scoring/metrics.js";
import { computeReward, type RewardResult } from "../../scoring/reward.js";
import type { TrainingItem } from "../types.js";

/** The run config's metric; the config schema admits only metric names. */
export const rewardMetricOf = (config: RunConfig): MetricName => config.reward.metric as MetricName;

export function scoreGroups(
  groups: readonly RolloutResult[][],
  questions: readonly TrainingItem[],
  config: RunConfig,
  toolTags: readonly string[],
): RewardResult[][] {
  return groups.map((rollouts, groupIndex) =>
    rollouts.map((r) =>
      computeReward(r.modelText, questions[groupIndex].golds, {
        metric: rewardMetricOf(config),
        weights: { accuracy: config.reward.accuracyWeight, format: config.reward.formatWeight },
        format: { toolTags },
      }),
    ),
  );
}
