// Everything the loop carries from one step to the next, and what a checkpoint saves and restores of
// it: the step, the curriculum position, the question cursor and the adapter being served.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { CurriculumState } from "../icrl/curriculum.js";
import { JobInputError } from "../runtime/errors.js";
import { readCheckpointFile } from "./checkpoint-file.js";
import { QuestionSampler, type SamplerState } from "./question-sampler.js";
import { resumedCurriculum } from "./resumed-curriculum.js";
import { adapterFileFor, type AdapterState } from "./stages/reload.js";
import type { TrainingItem, TrainingOptions } from "./types.js";

export interface TrainingState {
  step: number;
  curriculum: CurriculumState;
  sampler: QuestionSampler<TrainingItem>;
  adapters: AdapterState;
  /** The curriculum stage of the last step run: entering a new one may reset the learner. */
  lastStage: number;
  lastCheckpointStep: number;
}

export const learnerStateFile = (workDir: string): string => path.join(workDir, "learner-state.pt");

/** A fresh state, or the one `options.resumeFrom` saved (its learner state and adapter loaded too). */
export async function initialState(options: TrainingOptions): Promise<TrainingState> {
  const { config, learner, engine, workDir } = options;
  await mkdir(path.join(workDir, "adapters"), { recursive: true });
  const state: TrainingState = {
    step: 0,
    curriculum: new CurriculumState(options.curriculum),
    sampler: new QuestionSampler(options.train, config.seed),
    adapters: { version: 0, current: null },
    lastStage: 0,
    lastCheckpointStep: 0,
  };
  if (options.resumeFrom) {
    const header = await readCheckpointFile(options.resumeFrom, learnerStateFile(workDir));
    await learner.loadState(learnerStateFile(workDir));
    state.curriculum = resumedCurriculum(options.curriculum, header.curriculum, header.step);
    state.sampler.restore(header.sampler as SamplerState);
    state.step = header.step;
    state.adapters = { version: header.adapterVersion, current: adapterFileFor(workDir, header.step) };
    await learner.exportAdapter(state.adapters.current!);
    await engine.setAdapter(state.adapters.current);
    options.log?.("resumed from checkpoint", { step: state.step });
  }
  state.lastStage = state.curriculum.position().stageIndex;
  state.lastCheckpointStep = state.step;
  return state;
}

/**
 * The last step to run: the caller's cap, else the config's maxSteps. Without a cap the run ends when
 * its curriculum does (its last stage has run its steps), never at a hidden default, so no stage is
 * cut short or skipped; a curriculum with no end and no cap is refused (configs are validated for
 * this, but a curriculum stored before that rule may still lack one).
 */
export function lastStepOf(options: TrainingOptions, state: TrainingState): number {
  const cap = options.maxSteps ?? options.config.maxSteps;
  if (cap != null) return cap;
  const last = state.curriculum.spec.stages.at(-1);
  if (!last || (last.maxSteps ?? last.steps) === undefined) {
    throw new JobInputError("the run has no end: its curriculum's last stage has no steps (or maxSteps) and the run no maxSteps; set one of them");
  }
  return Number.POSITIVE_INFINITY;
}
