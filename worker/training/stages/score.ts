// Stage "score": the reward of each rollout, on the model's own text (reward.scope "response") or on
// its prompt followed by it (the official code's "promptAndResponse"), against the question's golds.
import { rewardMetricOf, type RunConfig } from "../../../contracts/index.js";
import type { RolloutResult } from "../../icrl/rollout-trace.js";
import { computeReward, rewardText, type RewardResult } from "../../scoring/reward.js";
import type { TrainingItem } from "../types.js";

export function scoreGroups(
  groups: readonly RolloutResult[][],
  questions: readonly TrainingItem[],
  config: RunConfig,
  toolTags: readonly string[],
  /** The groups' rendered prompts; needed when reward.scope is "promptAndResponse". */
  prompts?: readonly { text: string }[],
): RewardResult[][] {
  const scope = config.reward.scope ?? "response";
  if (scope === "promptAndResponse" && !prompts) throw new Error('reward.scope "promptAndResponse" needs the prompts of the groups');
  return groups.map((rollouts, groupIndex) =>
    rollouts.map((r) =>
      computeReward(rewardText(scope, prompts?.[groupIndex].text ?? "", r.modelText), questions[groupIndex].golds, {
        metric: rewardMetricOf(config),
        weights: { accuracy: config.reward.accuracyWeight, format: config.reward.formatWeight },
        format: { toolTags },
        multiGold: config.reward.multiGold,
      }),
    ),
  );
}
