// From a run config to what runTraining runs with: tools, prompt wording, demonstrations, curriculum
// and an initialised learner. The TRAIN job and the step benchmark both set up through here, so the
// benchmark measures the job's wiring and cannot drift from it (it once dropped miniBatchSize).
import { miniBatchSequences, type ClaimedCurriculum, type DemonstrationSet, type RunConfig } from "../../contracts/index.js";
import type { Engine } from "../engine/types.js";
import { paperCurriculum, type CurriculumSpecInput } from "../icrl/curriculum.js";
import { defaultDemonstrationsFor } from "../icrl/default-demonstrations.js";
import { defaultTemplateFor } from "../icrl/default-templates.js";
import type { InitParams, InitResult, LearnerDriver } from "../learner/driver.js";
import { jobTools } from "../runtime/job-setup.js";
import type { ToolSet } from "../tools/registry.js";
import type { TrainingOptions } from "./types.js";

/** The learner's init for a run config (model, LoRA, GRPO coefficients, seed); threads are the caller's. */
export function learnerInitParams(config: RunConfig): InitParams {
  return {
    model_path: config.model.path,
    lora: { rank: config.lora.rank, alpha: config.lora.alpha, targets: config.lora.targets },
    optim: {
      lr: config.grpo.lr,
      clip_ratio_low: config.grpo.clipEps,
      clip_ratio_high: config.grpo.clipEps,
      kl_coef: config.grpo.klCoef,
      entropy_coef: config.grpo.entropyCoef,
      grad_clip: config.grpo.gradClip,
      epochs: config.grpo.epochs,
      // The learner counts rollouts (sequences); grpo.miniBatchQuestions counts questions of G rollouts each.
      ...(miniBatchSequences(config.grpo) ? { mini_batch_size: miniBatchSequences(config.grpo) } : {}),
    },
    seed: config.seed,
    device: (config.learner?.device ?? "auto") as InitParams["device"],
    // Sent only when set: the learner's defaults apply otherwise.
    ...(config.learner?.dtype ? { dtype: config.learner.dtype } : {}),
    ...(config.learner?.gradientCheckpointing !== undefined ? { gradient_checkpointing: config.learner.gradientCheckpointing } : {}),
    ...(config.learner?.logprobChunk !== undefined ? { logprob_chunk: config.learner.logprobChunk } : {}),
  };
}

/** The claim's stored curriculum, else the config's, else the paper's. */
export function curriculumFor(config: RunConfig, claimed: ClaimedCurriculum | null = null): CurriculumSpecInput {
  const source = claimed ?? config.curriculum;
  if (!source) return paperCurriculum();
  return {
    stages: source.stages.map((s) => ({ shots: s.shots, steps: s.steps, minSteps: s.minSteps, maxSteps: s.maxSteps })),
    advance: (source.advanceRules ?? []).map((r) => ({ metric: r.metric, window: r.window, threshold: r.threshold, op: r.op ?? ">=" })),
  };
}

export interface TrainingSetupInput {
  config: RunConfig;
  /** The engine serving the run's model (no adapter yet). */
  engine: Engine;
  /** A started learner process; set-up initialises it for the run. */
  learner: LearnerDriver;
  /** The claim's demonstration set; null: the task's built-in one. */
  demonstrations?: DemonstrationSet | null;
  curriculum?: ClaimedCurriculum | null;
  /**
   * The learner's CPU threads. Engine and learner take turns, never run at once, so the worker's
   * thread budget serves both (the learner's own default, every core, ran the same step 3x slower on
   * a busy 2-core machine: BENCHMARKS.md, step). Undefined: the learner's default.
   */
  learnerThreads?: number;
}

export type TrainingSetup = Pick<TrainingOptions, "config" | "engine" | "learner" | "tools" | "template" | "curriculum"> & {
  demonstrations: DemonstrationSet;
  learnerInfo: InitResult;
  /** Owns the tools' processes and indexes. */
  toolSet: ToolSet;
  /** Closes the tools; the learner stays the caller's to shut down. */
  close(): Promise<void>;
};

export async function setUpTraining(input: TrainingSetupInput): Promise<TrainingSetup> {
  const { config, engine, learner } = input;
  const { toolSet, tools } = await jobTools(config.tools, engine, "the run");
  try {
    const learnerInfo = await learner.init({
      ...learnerInitParams(config),
      ...(input.learnerThreads ? { threads: input.learnerThreads } : {}),
    });
    return {
      config,
      engine,
      learner,
      tools,
      toolSet,
      template: config.template ?? defaultTemplateFor(config.task),
      demonstrations: input.demonstrations ?? defaultDemonstrationsFor(config.task),
      curriculum: curriculumFor(config, input.curriculum),
      learnerInfo,
      close: () => toolSet.close(),
    };
  } catch (error) {
    await toolSet.close().catch(() => undefined);
    throw error;
  }
}
