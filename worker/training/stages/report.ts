// Stage "report": the step's metrics (what it sampled, how it scored, what the learner did) and,
// when one is due, the checkpoint that vouches for every step up to this one.
import { METRIC } from "../../../contracts/index.js";
import type { StepMetrics } from "../../learner/driver.js";
import type { RewardResult } from "../../scoring/reward.js";
import type { StepBatch, StepPosition } from "./advantages.js";

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

export function stepMetricValues(position: StepPosition, batch: StepBatch, scores: readonly RewardResult[][]): Record<string, number> {
  const scored = scores.flat();
  const rewards = scored.map((s) => s.reward);
  const records = batch.records;
  return {
    [METRIC.rewardMean]: mean(rewards),
    [METRIC.rewardStd]: Math.sqrt(mean(rewards.map((r) => (r - mean(rewards)) ** 2))),
    [METRIC.accuracyMean]: mean(scored.map((s) => s.accuracy)),
    [METRIC.formatMean]: mean(scored.map((s) => s.format)),
    [METRIC.validToolCalls]: mean(records.map((r) => r.toolCallsValid)),
    [METRIC.invalidToolCalls]: mean(records.map((r) => r.toolCallsInvalid)),
    [METRIC.turnsMean]: mean(records.map((r) => r.turns)),
    [METRIC.responseTokensMean]: mean(records.map((r) => r.responseTokens)),
    [METRIC.shots]: position.shots,
    [METRIC.stage]: position.stage,
    [METRIC.zeroVarianceGroups]: scores.length ? batch.zeroVarianceGroups / scores.length : 0,
  };
}

export function learnerMetricValues(metrics: StepMetrics | null): Record<string, number> {
  if (!metrics) return {};
  return {
    [METRIC.learnerLoss]: metrics.loss,
    [METRIC.learnerPgLoss]: metrics.pg_loss,
    [METRIC.learnerKl]: metrics.kl,
    [METRIC.learnerEntropy]: metrics.entropy,
    [METRIC.learnerClipFrac]: metrics.clip_frac,
    [METRIC.learnerLr]: metrics.lr,
    [METRIC.learnerTokens]: metrics.tokens,
    ...(metrics.grad_norm != null ? { [METRIC.learnerGradNorm]: metrics.grad_norm } : {}),
  };
}
