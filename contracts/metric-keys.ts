// The metric keys a TRAIN job logs every step (and every validation step), as one list the worker
// writes and the CLI, the dashboard and the tests read. Users may log any other key beside these.

export const METRIC = {
  rewardMean: "reward/mean",
  rewardStd: "reward/std",
  accuracyMean: "accuracy/mean",
  formatMean: "format/mean",
  validToolCalls: "tools/valid_calls_per_rollout",
  invalidToolCalls: "tools/invalid_calls_per_rollout",
  turnsMean: "turns/mean",
  responseTokensMean: "response/tokens_mean",
  shots: "curriculum/shots",
  stage: "curriculum/stage",
  zeroVarianceGroups: "groups/zero_variance_frac",
  /** Zero-shot greedy accuracy on the held-out split (the paper's evaluation), at step 0 and every `validation.every` steps. */
  valAccuracy: "val/accuracy",
  valToolCalls: "val/tool_calls_mean",
  learnerLoss: "learner/loss",
  learnerPgLoss: "learner/pg_loss",
  learnerKl: "learner/kl",
  learnerEntropy: "learner/entropy",
  learnerClipFrac: "learner/clip_frac",
  learnerLr: "learner/lr",
  learnerTokens: "learner/tokens",
  learnerGradNorm: "learner/grad_norm",
} as const;

export type MetricKey = (typeof METRIC)[keyof typeof METRIC];

/** Seconds spent in each named stage of a training step: `time/<stage>_s`, plus the whole step. */
export const TIME_PREFIX = "time/";
export const timeKey = (stage: string): string => `${TIME_PREFIX}${stage}_s`;
export const STEP_TIME_KEY = timeKey("step");
/** Seconds the step's rollouts waited on tool calls (inside the rollout stage, summed over rollouts). */
export const TOOLS_TIME_KEY = timeKey("tools");

/**
 * The named stages of one training step, in order, and the key each one's seconds are logged under.
 * Learn, reload and report keep the names they had before the step was split into stages (dashboards
 * and stored runs read them); report covers handing out rollouts and metrics and the checkpoint upload.
 */
export const STAGE_TIME_KEYS = {
  sample: timeKey("sample"),
  prompt: timeKey("prompt"),
  rollout: timeKey("rollout"),
  score: timeKey("score"),
  advantages: timeKey("advantages"),
  learn: timeKey("learner"),
  reload: timeKey("adapter_reload"),
  validate: timeKey("validate"),
  report: timeKey("upload"),
} as const;
export type TrainingStageName = keyof typeof STAGE_TIME_KEYS;
