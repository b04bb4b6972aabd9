// The learning-rate scale of a step under grpo.stageWarmup: a linear warm-up over the first
// floor(fraction x stage length) steps of every curriculum stage. The official code launches each
// stage as a new verl run with lr_warmup_steps_ratio 0.1, so its warm-up starts again every stage;
// verl's constant-with-warm-up schedule gives step t of a warm-up of w steps the scale t / w, so the
// stage's first step updates with lr 0 (AdamW's moments still move), as there.
import type { CurriculumStage } from "../icrl/curriculum.js";

/** The stage's planned length: its maxSteps or steps; null for a rule-driven stage with no bound (no warm-up). */
export function stageLength(stage: Pick<CurriculumStage, "steps" | "maxSteps">): number | null {
  return stage.maxSteps ?? stage.steps ?? null;
}

/** Scale in [0, 1] for the step that is `stepInStage` (0-based) into a stage of `length` steps. */
export function stageWarmupScale(fraction: number, stepInStage: number, length: number | null): number {
  if (fraction <= 0 || length === null) return 1;
  const warmupSteps = Math.floor(fraction * length);
  if (warmupSteps <= 0 || stepInStage >= warmupSteps) return 1;
  return stepInStage / warmupSteps;
}
