// The ICRL training loop (ARCHITECTURE.md, "The method"), independent of the server: each step picks the
// curriculum stage, samples questions, builds k-shot prompts, runs G rollouts per question with
// tools, scores them, computes group advantages, runs one learner step, and hot-loads the new adapter.
// What happens is reported through `events`; the job runner (train-job.ts) turns that into server
// calls, and tests can drive the loop directly.
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import type { Engine } from "../engine/types.js";
import type { Tool } from "../tools/types.js";
import type { LearnerDriver, StepMetrics, TrainingSample } from "../learner/driver.js";
import type { RunConfig } from "../../contracts/index.js";
import { CurriculumState, type CurriculumSpecInput, type StageChange } from "../icrl/curriculum.js";
import { renderPrompt } from "../icrl/prompt.js";
import type { DemonstrationSet, PromptTemplate } from "../../contracts/index.js";
import { runRolloutGroup } from "../icrl/rollout.js";
import type { RolloutResult } from "../icrl/rollout-trace.js";
import { groupAdvantages } from "../icrl/advantages.js";
import { computeReward } from "../scoring/reward.js";
import type { MetricName } from "../scoring/metrics.js";
import { QuestionSampler, type SamplerState } from "./question-sampler.js";
import { readCheckpointFile, writeCheckpointFile, type TrainerCheckpoint } from "./checkpoint-file.js";

export interface TrainingItem {
  id: string;
  question: string;
  golds: string[];
}

/** One rollout as the server stores it (GraphQL RolloutInput). */
export interface ReportedRollout {
  step: number;
  stage: number;
  shots: number;
  groupIndex: number;
  sampleIndex: number;
  questionId: string;
  segments: { kind: "MODEL" | "TOOL_CALL" | "TOOL_RESULT" | "SYSTEM"; text: string }[];
  reward: number;
  rewardComponents: Record<string, number>;
  advantage: number;
  promptTokens: number;
  responseTokens: number;
  turns: number;
  toolCallsValid: number;
  toolCallsInvalid: number;
  finishReason: string;
}

export interface TrainingEvents {
  /** Called once per step, before the step's metrics; must not block (enqueue). */
  rollouts(step: number, rollouts: ReportedRollout[]): void;
  metrics(step: number, values: Record<string, number>): void;
  progress(position: { step: number; stage: number; shots: number }): void;
  stageChange?(change: StageChange): void;
  /** Persist a checkpoint (upload). Awaited: the step is not done until it is stored. */
  checkpoint(step: number, files: { adapter: string; checkpoint: string }): Promise<void>;
  /**
   * Deliver everything reported so far. Called after the last metrics of a checkpointed step (its
   * timings come after the upload), so a crash later on cannot lose a step the checkpoint vouches for.
   */
  flush?(): Promise<void>;
}

export interface TrainingOptions {
  config: RunConfig;
  engine: Engine;
  learner: LearnerDriver;
  tools: readonly Tool[];
  train: readonly TrainingItem[];
  validation: readonly TrainingItem[];
  curriculum: CurriculumSpecInput;
  template: PromptTemplate;
  demonstrations: DemonstrationSet | null;
  workDir: string;
  events: TrainingEvents;
  /** Checked at every step boundary (cancel, shutdown). */
  shouldStop(): boolean;
  /** When stopped (not cancelled) between checkpoints, save one first so no finished step is redone. */
  checkpointOnStop?: () => boolean;
  /** Restore from this checkpoint file before the first step. */
  resumeFrom?: string;
  /** Hard cap on the last step (config.maxSteps otherwise; else the curriculum's end). */
  maxSteps?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface TrainingOutcome {
  lastStep: number;
  stopped: boolean;
  stageChanges: StageChange[];
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

function seedFor(runSeed: number, step: number, group: number): number {
  let h = (runSeed ^ 0x5bd1e995) >>> 0;
  for (const v of [step, group]) {
    h = Math.imul(h ^ v, 0x9e3779b1) >>> 0;
    h ^= h >>> 15;
  }
  return h >>> 0;
}

function metricFor(config: RunConfig): MetricName {
  return config.reward.metric as MetricName;
}

export function toReported(
  r: RolloutResult,
  ctx: Omit<
    ReportedRollout,
    "sampleIndex" | "segments" | "promptTokens" | "responseTokens" | "turns" | "toolCallsValid" | "toolCallsInvalid" | "finishReason"
  >,
): ReportedRollout {
  return {
    ...ctx,
    sampleIndex: r.sampleIndex,
    segments: r.segments.map((s) => ({ kind: s.kind, text: s.text })),
    promptTokens: r.promptTokens,
    responseTokens: r.responseTokens,
    turns: r.turns,
    toolCallsValid: r.toolCallsValid,
    toolCallsInvalid: r.toolCallsInvalid,
    finishReason: r.finishReason,
  };
}

/** Zero-shot greedy accuracy on held-out questions (the paper evaluates zero-shot). */
export async function evaluateZeroShot(
  options: Pick<TrainingOptions, "engine" | "tools" | "template" | "config">,
  items: readonly TrainingItem[],
): Promise<{ accuracy: number; toolCallsMean: number }> {
  const { engine, config } = options;
  const accuracies: number[] = [];
  const calls: number[] = [];
  for (const item of items) {
    const prompt = renderPrompt(engine, { question: item.question, questionId: item.id, shots: 0, template: options.template });
    const group = await engine.openGroup(1, { tokensPerSequence: prompt.tokens.length + config.rollout.maxTotalTokens + 8 });
    try {
      const { rollouts } = await runRolloutGroup(engine, group, prompt.tokens, {
        tools: options.tools,
        maxToolTurns: config.rollout.maxToolTurns,
        maxTokensPerTurn: config.rollout.maxTurnTokens,
        maxResponseTokens: config.rollout.maxTotalTokens,
        sampling: { temperature: 0, seed: 0 },
        messages: options.template,
      });
      const r = computeReward(rollouts[0].modelText, item.golds, {
        metric: metricFor(config),
        format: { toolTags: options.tools.map((t) => t.name) },
      });
      accuracies.push(r.accuracy);
      calls.push(rollouts[0].toolCallsValid);
    } finally {
      await group.dispose();
    }
  }
  return { accuracy: mean(accuracies), toolCallsMean: mean(calls) };
}

/**
 * The curriculum state to continue with after restoring a checkpoint taken at `step`. A run resuming
 * itself gets the saved state as is. A fork may have patched its curriculum: a fixed one is then
 * placed by absolute step (stage i covers the steps after the earlier stages' lengths, the step
 * numbering continuing the parent's), a rule-driven one keeps the saved stage and rule history.
 */
export function resumedCurriculum(spec: CurriculumSpecInput, saved: unknown, step: number): CurriculumState {
  const restored = CurriculumState.fromJSON(saved);
  const wanted = new CurriculumState(spec).spec;
  if (JSON.stringify(restored.spec) === JSON.stringify(wanted)) return restored;
  const snapshot = restored.toJSON();
  const fixed = wanted.advance.length === 0 && wanted.stages.every((s) => !s.advance?.length);
  let stageIndex = Math.min(snapshot.stageIndex, wanted.stages.length - 1);
  let stepsInStage = stageIndex === snapshot.stageIndex ? snapshot.stepsInStage : 0;
  if (fixed) {
    let before = 0;
    stageIndex = 0;
    for (;;) {
      const length = wanted.stages[stageIndex].maxSteps ?? wanted.stages[stageIndex].steps;
      if (stageIndex === wanted.stages.length - 1 || length === undefined || step < before + length) break;
      before += length;
      stageIndex++;
    }
    stepsInStage = step - before;
  }
  return CurriculumState.fromJSON({ ...snapshot, spec: wanted, stageIndex, stepsInStage, recent: fixed ? {} : snapshot.recent });
}

export async function runTraining(options: TrainingOptions): Promise<TrainingOutcome> {
  const { config, engine, learner, events, workDir } = options;
  const log = options.log ?? (() => {});
  await mkdir(path.join(workDir, "adapters"), { recursive: true });
  let curriculum = new CurriculumState(options.curriculum);
  const sampler = new QuestionSampler(options.train, config.seed);
  const toolTags = options.tools.map((t) => t.name);
  let step = 0;
  let adapterVersion = 0;
  let currentAdapter: string | null = null;

  if (options.resumeFrom) {
    const learnerState = path.join(workDir, "learner-state.pt");
    const header = await readCheckpointFile(options.resumeFrom, learnerState);
    await learner.loadState(learnerState);
    curriculum = resumedCurriculum(options.curriculum, header.curriculum, header.step);
    sampler.restore(header.sampler as SamplerState);
    step = header.step;
    adapterVersion = header.adapterVersion;
    currentAdapter = path.join(workDir, "adapters", `adapter-${step}.gguf`);
    await learner.exportAdapter(currentAdapter);
    await engine.setAdapter(currentAdapter);
    log("resumed from checkpoint", { step });
  }

  const lastStep =
    options.maxSteps ??
    config.maxSteps ??
    (() => {
      const spec = curriculum.spec;
      const total = spec.stages.reduce((n, s) => n + (s.maxSteps ?? s.steps ?? 0), 0);
      return total > 0 ? total : 100;
    })();
  let lastStage = curriculum.position().stageIndex;
  let stopped = false;
  if (step === 0 && config.validation.every > 0 && options.validation.length) {
    // Step 0 is the model before any RL update (after the warm start, if any): the baseline every later
    // val/accuracy is read against.
    const val = await evaluateZeroShot(options, options.validation.slice(0, config.validation.size));
    events.metrics(0, { "val/accuracy": val.accuracy, "val/tool_calls_mean": val.toolCallsMean });
  }
  let lastCheckpointStep = step;

  const saveCheckpoint = async (at: number, lateMetrics?: () => Record<string, number>) => {
    const learnerState = path.join(workDir, "learner-state.pt");
    await learner.saveState(learnerState);
    const checkpoint = path.join(workDir, `checkpoint-${at}.icrl`);
    const header: TrainerCheckpoint = {
      version: 1,
      step: at,
      curriculum: curriculum.toJSON(),
      sampler: sampler.snapshot(),
      rolloutSeed: config.seed,
      adapterVersion,
      ...(lateMetrics ? { lateMetrics: lateMetrics() } : {}),
    };
    await writeCheckpointFile(checkpoint, header, learnerState);
    const adapter = currentAdapter ?? path.join(workDir, "adapters", `adapter-${at}.gguf`);
    if (!currentAdapter) await learner.exportAdapter(adapter);
    await events.checkpoint(at, { adapter, checkpoint });
    await rm(checkpoint, { force: true });
    lastCheckpointStep = at;
  };

  while (step < lastStep) {
    if (options.shouldStop()) {
      stopped = true;
      if (step > lastCheckpointStep && options.checkpointOnStop?.()) await saveCheckpoint(step);
      break;
    }
    const position = curriculum.position();
    if (position.finished) break;
    step++;
    const stepStarted = performance.now();
    const { stageIndex: stage, shots } = position;
    if (stage !== lastStage) {
      const reset = config.grpo.resetOnStage;
      if (reset.optimizer || reset.reference) await learner.reset({ optimizer: reset.optimizer, reference: reset.reference });
      lastStage = stage;
    }
    events.progress({ step, stage, shots });

    // Rollouts: one group of G per question.
    const questions = sampler.next(config.grpo.questionsPerStep);
    const samples: TrainingSample[] = [];
    const reported: ReportedRollout[] = [];
    const rewards: number[] = [];
    const accuracies: number[] = [];
    const formats: number[] = [];
    let toolMs = 0;
    let zeroVarianceGroups = 0;
    const rolloutStarted = performance.now();
    for (const [groupIndex, item] of questions.entries()) {
      const prompt = renderPrompt(engine, {
        question: item.question,
        questionId: item.id,
        shots,
        template: options.template,
        demonstrations: shots > 0 ? options.demonstrations : null,
        selection: config.demonstrations.selection,
        seed: config.seed,
      });
      const group = await engine.openGroup(config.grpo.groupSize, { tokensPerSequence: prompt.tokens.length + config.rollout.maxTotalTokens + 8 });
      let results: RolloutResult[];
      try {
        results = (
          await runRolloutGroup(engine, group, prompt.tokens, {
            tools: options.tools,
            maxToolTurns: config.rollout.maxToolTurns,
            maxTokensPerTurn: config.rollout.maxTurnTokens,
            maxResponseTokens: config.rollout.maxTotalTokens,
            sampling: {
              temperature: config.rollout.temperature,
              topK: config.rollout.topK,
              topP: config.rollout.topP,
              minP: 0,
              seed: seedFor(config.seed, step, groupIndex),
            },
            messages: options.template,
          })
        ).rollouts;
      } finally {
        await group.dispose();
      }
      const scored = results.map((r) =>
        computeReward(r.modelText, item.golds, {
          metric: metricFor(config),
          weights: { accuracy: config.reward.accuracyWeight, format: config.reward.formatWeight },
          format: { toolTags },
        }),
      );
      const adv = groupAdvantages(scored.map((s) => s.reward));
      if (adv.zeroVariance) zeroVarianceGroups++;
      results.forEach((r, i) => {
        toolMs += r.timing.toolMs;
        rewards.push(scored[i].reward);
        accuracies.push(scored[i].accuracy);
        formats.push(scored[i].format);
        reported.push(
          toReported(r, {
            step,
            stage,
            shots,
            groupIndex,
            questionId: item.id,
            reward: scored[i].reward,
            rewardComponents: { accuracy: scored[i].accuracy, format: scored[i].format, ...scored[i].components },
            advantage: adv.advantages[i],
          }),
        );
        if (adv.zeroVariance && config.grpo.filterZeroVariance) return;
        if (r.modelTokens === 0) return;
        samples.push({
          tokens: [...prompt.tokens, ...r.responseIds],
          mask: [...prompt.tokens.map(() => 0), ...r.lossMask],
          advantage: adv.advantages[i],
        });
      });
    }
    const rolloutS = (performance.now() - rolloutStarted) / 1000;
    events.rollouts(step, reported);

    // Learner step, then hot-load the new adapter.
    const learnerStarted = performance.now();
    let learnerMetrics: StepMetrics | null = null;
    if (samples.length > 0) learnerMetrics = await learner.step(samples);
    const learnerS = (performance.now() - learnerStarted) / 1000;
    const reloadStarted = performance.now();
    if (learnerMetrics) {
      adapterVersion++;
      const next = path.join(workDir, "adapters", `adapter-${step}.gguf`);
      await learner.exportAdapter(next);
      await engine.setAdapter(next);
      if (currentAdapter && currentAdapter !== next) await rm(currentAdapter, { force: true });
      currentAdapter = next;
    }
    const reloadS = (performance.now() - reloadStarted) / 1000;

    const all = reported;
    const values: Record<string, number> = {
      "reward/mean": mean(rewards),
      "reward/std": Math.sqrt(mean(rewards.map((r) => (r - mean(rewards)) ** 2))),
      "accuracy/mean": mean(accuracies),
      "format/mean": mean(formats),
      "tools/valid_calls_per_rollout": mean(all.map((r) => r.toolCallsValid)),
      "tools/invalid_calls_per_rollout": mean(all.map((r) => r.toolCallsInvalid)),
      "turns/mean": mean(all.map((r) => r.turns)),
      "response/tokens_mean": mean(all.map((r) => r.responseTokens)),
      "curriculum/shots": shots,
      "curriculum/stage": stage,
      "groups/zero_variance_frac": questions.length ? zeroVarianceGroups / questions.length : 0,
      "time/rollout_s": rolloutS,
      "time/tools_s": toolMs / 1000,
      "time/learner_s": learnerS,
      "time/adapter_reload_s": reloadS,
    };
    if (learnerMetrics) {
      Object.assign(values, {
        "learner/loss": learnerMetrics.loss,
        "learner/pg_loss": learnerMetrics.pg_loss,
        "learner/kl": learnerMetrics.kl,
        "learner/entropy": learnerMetrics.entropy,
        "learner/clip_frac": learnerMetrics.clip_frac,
        "learner/lr": learnerMetrics.lr,
        "learner/tokens": learnerMetrics.tokens,
        ...(learnerMetrics.grad_norm != null ? { "learner/grad_norm": learnerMetrics.grad_norm } : {}),
      });
    }

    const observed = curriculum.observe(step, values);
    if (observed.change) events.stageChange?.(observed.change);

    if (config.validation.every > 0 && step % config.validation.every === 0 && options.validation.length) {
      const val = await evaluateZeroShot(options, options.validation.slice(0, config.validation.size));
      values["val/accuracy"] = val.accuracy;
      values["val/tool_calls_mean"] = val.toolCallsMean;
    }

    // Metrics go out before the checkpoint: a checkpoint at step s promises steps <= s are stored.
    events.metrics(step, values);
    const uploadStarted = performance.now();
    const last = step >= lastStep || observed.finished;
    const checkpointed = step % config.checkpointEvery === 0 || last;
    // The step's timings are logged after the upload, so the checkpoint also carries them measured
    // up to its own writing: a resumed run logs those if the exact ones never reached the server.
    const timings = () => ({
      "time/upload_s": (performance.now() - uploadStarted) / 1000,
      "time/step_s": (performance.now() - stepStarted) / 1000,
    });
    if (checkpointed) await saveCheckpoint(step, timings);
    events.metrics(step, {
      "time/upload_s": (performance.now() - uploadStarted) / 1000,
      "time/step_s": (performance.now() - stepStarted) / 1000,
    });
    if (checkpointed) await events.flush?.();
    log("step done", { step, stage, shots, reward: values["reward/mean"], accuracy: values["accuracy/mean"] });
    if (observed.finished) break;
  }
  return { lastStep: step, stopped, stageChanges: [...curriculum.changes] };
}
