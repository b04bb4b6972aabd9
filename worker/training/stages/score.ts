// Stage "score": the reward of each rollout, on the model's own text against the question's golds.
import { rewardMetricOf, type RunConfig } from "../../../contracts/index.js";
import type { RolloutResult } from "../../icrl/rollout-trace.js";
import { computeReward, type RewardResult } from "../../scoring/reward.js";
import type { TrainingItem } from "../types.js";

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
