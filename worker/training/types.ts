// What the training loop takes and reports: the loop is independent of the server, so the TRAIN job
// (train-job.ts), the step benchmark and the tests drive it through these alone.
import type { DemonstrationSet, PromptTemplate, RolloutRecord, RunConfig } from "../../contracts/index.js";
import type { Engine } from "../engine/types.js";
import type { CurriculumSpecInput, StageChange } from "../icrl/curriculum.js";
import type { LearnerDriver } from "../learner/driver.js";
import type { Tool } from "../tools/types.js";

export interface TrainingItem {
  id: string;
  question: string;
  golds: string[];
}

export interface TrainingEvents {
  /** Called once per step, before the step's metrics; must not block (enqueue). */
  rollouts(step: number, rollouts: RolloutRecord[]): void;
  metrics(step: number, values: Record<string, number>): void;
  progress(position: { step: number; stage: number; shots: number }): void;
  stageChange?(change: StageChange): void;
  /**
   * Persist a checkpoint. Awaited, but may return before it is stored (the TRAIN job stores it in the
   * background); the files are the loop's again once it returns.
   */
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
  /** Checked at every step boundary, before the next step starts (cancel, shutdown). */
  shouldStop(): boolean | Promise<boolean>;
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
