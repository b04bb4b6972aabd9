// The ICRL training loop (ARCHITECTURE.md, "The method"), independent of the server. Each step runs
// named, timed stages: sample questions, build k-shot prompts, roll out G trajectories per question
// with tools, score them, compute group advantages, take one learner step, hot-load the new adapter,
// report. What happens goes out through `events`; the job runner (train-job.ts) turns that into
// server calls, and tests and the step benchmark drive the loop directly.
import { saveCheckpoint } from "./checkpoint.js";
import { StageTimer } from "./stage-timer.js";
import { stageLength, stageWarmupScale } from "./stage-warmup.js";
import { buildStepBatch, type StepPosition } from "./stages/advantages.js";
import { learnFrom } from "./stages/learn.js";
import { buildPrompts } from "./stages/prompt.js";
import { adapterFileFor, reloadAdapter } from "./stages/reload.js";
import { learnerMetricValues, stepMetricValues } from "./stages/report.js";
import { runRollouts, toolSeconds } from "./stages/rollout.js";
import { sampleQuestions } from "./stages/sample.js";
import { scoreGroups } from "./stages/score.js";
import { validationDue, validationMetrics } from "./stages/validate.js";
import { initialState, lastStepOf, type TrainingState } from "./training-state.js";
import type { TrainingOptions, TrainingOutcome } from "./types.js";

export type { TrainingEvents, TrainingItem, TrainingOptions, TrainingOutcome } from "./types.js";
export { evaluateZeroShot } from "./stages/validate.js";
export { resumedCurriculum } from "./resumed-curriculum.js";

/** Stages whose timings go out with the step's metrics; the report stage's follow its upload. */
const STAGES_BEFORE_REPORT = ["sample", "prompt", "rollout", "score", "advantages", "learn", "reload", "validate"] as const;

export async function runTraining(options: TrainingOptions): Promise<TrainingOutcome> {
  const { config, events } = options;
  const state = await initialState(options);
  const lastStep = lastStepOf(options, state);
  if (state.step === 0 && validationDue(config, 0, options.validation)) {
    // The model before any RL update (after the warm start, if any): the baseline of every later val/accuracy.
    events.metrics(0, await validationMetrics(options));
  }

  let stopped = false;
  while (state.step < lastStep) {
    if (await options.shouldStop()) {
      stopped = true;
      if (state.step > state.lastCheckpointStep && options.checkpointOnStop?.()) await saveCheckpoint(state, options);
      break;
    }
    const position = state.curriculum.position();
    if (position.finished) break;
    state.step++;
    const lrScale = stageWarmupScale(config.grpo.stageWarmup, position.stepsInStage, stageLength(state.curriculum.spec.stages[position.stageIndex]));
    const finished = await runStep(options, state, { step: state.step, stage: position.stageIndex, shots: position.shots }, lastStep, lrScale);
    if (finished) break;
  }
  return { lastStep: state.step, stopped, stageChanges: [...state.curriculum.changes] };
}

/** One training step; true when the curriculum has run its course. */
async function runStep(options: TrainingOptions, state: TrainingState, position: StepPosition, lastStep: number, lrScale: number): Promise<boolean> {
  const { config, engine, learner, events } = options;
  const { step } = position;
  const timer = new StageTimer();
  await enterStage(options, state, position.stage);
  events.progress(position);

  const questions = await timer.time("sample", () => sampleQuestions(state.sampler, config));
  const prompts = await timer.time("prompt", () => buildPrompts(engine, questions, position.shots, options));
  const groups = await timer.time("rollout", () => runRollouts(engine, prompts, step, options));
  timer.addToolSeconds(toolSeconds(groups));
  const toolTags = options.tools.map((t) => t.name);
  const scores = await timer.time("score", () => scoreGroups(groups, questions, config, toolTags, prompts));
  const batch = await timer.time("advantages", () => buildStepBatch(position, questions, prompts, groups, scores, config));
  // Rollouts go out before the learner step, so the outbox delivers them while the learner works.
  await timer.time("report", () => events.rollouts(step, batch.records));
  const learned = await timer.time("learn", () => learnFrom(learner, batch.samples, step, lrScale));
  await timer.time("reload", () => (learned ? reloadAdapter(learner, engine, state.adapters, adapterFileFor(options.workDir, step)) : undefined));

  const values = { ...stepMetricValues(position, batch, scores), ...timer.stageMetrics(STAGES_BEFORE_REPORT), ...timer.toolMetrics() };
  Object.assign(values, learnerMetricValues(learned));
  const observed = state.curriculum.observe(step, values);
  if (observed.change) events.stageChange?.(observed.change);
  if (validationDue(config, step, options.validation)) {
    Object.assign(values, await timer.time("validate", () => validationMetrics(options)));
    Object.assign(values, timer.stageMetrics(["validate"]));
  }

  // Metrics go out before the checkpoint: a checkpoint at step s promises steps <= s are stored. The
  // report stage's own timing and the step's are logged after the upload, so the checkpoint carries
  // them measured up to its own writing: a resumed run logs those if the exact ones never arrived.
  const checkpointed = step % config.checkpointEvery === 0 || step >= lastStep || observed.finished;
  const lateMetrics = () => ({ ...timer.stageMetrics(["report"]), ...timer.stepMetrics() });
  await timer.time("report", async () => {
    events.metrics(step, values);
    if (checkpointed) await saveCheckpoint(state, options, lateMetrics);
  });
  events.metrics(step, lateMetrics());
  if (checkpointed) await events.flush?.();
  options.log?.("step done", {
    step,
    stage: position.stage,
    shots: position.shots,
    reward: values["reward/mean"],
    accuracy: values["accuracy/mean"],
  });
  return observed.finished;
}

/** Entering a new curriculum stage may reset the optimizer and the KL reference (config.grpo.resetOnStage). */
async function enterStage(options: TrainingOptions, state: TrainingState, stage: number): Promise<void> {
  if (stage === state.lastStage) return;
  const reset = options.config.grpo.resetOnStage;
  if (reset.optimizer || reset.reference) await options.learner.reset({ optimizer: reset.optimizer, reference: reset.reference });
  state.lastStage = stage;
}
