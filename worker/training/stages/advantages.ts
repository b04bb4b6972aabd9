// Stage "advantages": group-relative advantages, then what the step hands on: the rollout records
// the server stores and the samples the learner trains on.
import type { RolloutRecord, RunConfig } from "../../../contracts/index.js";
import { groupAdvantages } from "../../icrl/advantages.js";
import type { RenderedPrompt } from "../../icrl/prompt.js";
import { toRolloutRecord } from "../../icrl/rollout-record.js";
import type { RolloutResult } from "../../icrl/rollout-trace.js";
import type { TrainingSample } from "../../learner/driver.js";
import type { RewardResult } from "../../scoring/reward.js";
import type { TrainingItem } from "../types.js";

export interface StepPosition {
  step: number;
  stage: number;
  shots: number;
}

export interface StepBatch {
  records: RolloutRecord[];
  samples: TrainingSample[];
  /** Groups whose rewards were all equal (no learning signal). */
  zeroVarianceGroups: number;
}

export function buildStepBatch(
  position: StepPosition,
  questions: readonly TrainingItem[],
  prompts: readonly RenderedPrompt[],
  groups: readonly RolloutResult[][],
  scores: readonly RewardResult[][],
  config: RunConfig,
): StepBatch {
  const batch: StepBatch = { records: [], samples: [], zeroVarianceGroups: 0 };
  groups.forEach((rollouts, groupIndex) => {
    const scored = scores[groupIndex];
    const promptTokens = prompts[groupIndex].tokens;
    const adv = groupAdvantages(scored.map((s) => s.reward));
    if (adv.zeroVariance) batch.zeroVarianceGroups++;
    rollouts.forEach((r, i) => {
      batch.records.push(
        toRolloutRecord(r, {
          ...position,
          groupIndex,
          questionId: questions[groupIndex].id,
          reward: scored[i].reward,
          rewardComponents: { accuracy: scored[i].accuracy, format: scored[i].format, ...scored[i].components },
          advantage: adv.advantages[i],
        }),
      );
      // A group without signal teaches nothing when filtered; a rollout without sampled tokens never does.
      if (adv.zeroVariance && config.grpo.filterZeroVariance) return;
      if (r.modelTokens === 0) return;
      batch.samples.push({
        tokens: [...promptTokens, ...r.responseIds],
        mask: [...promptTokens.map(() => 0), ...r.lossMask],
        advantage: adv.advantages[i],
      });
    });
  });
  return batch;
}
