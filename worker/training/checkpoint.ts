// Saving a checkpoint: the learner's state and the loop's (curriculum, question cursor, adapter
// version) in one file, handed to events.checkpoint with the adapter it goes with, then deleted: once
// stored elsewhere it is no longer needed here.
import { rm } from "node:fs/promises";
import path from "node:path";
import { writeCheckpointFile, type TrainerCheckpoint } from "./checkpoint-file.js";
import { adapterFileFor } from "./stages/reload.js";
import { learnerStateFile, type TrainingState } from "./training-state.js";
import type { TrainingOptions } from "./types.js";

export async function saveCheckpoint(
  state: TrainingState,
  options: Pick<TrainingOptions, "config" | "learner" | "events" | "workDir">,
  /** Metrics of this step logged only after the checkpoint is stored (see TrainerCheckpoint.lateMetrics). */
  lateMetrics?: () => Record<string, number>,
): Promise<void> {
  const { learner, workDir } = options;
  const at = state.step;
  await learner.saveState(learnerStateFile(workDir));
  const checkpoint = path.join(workDir, `checkpoint-${at}.icrl`);
  const header: TrainerCheckpoint = {
    version: 1,
    step: at,
    curriculum: state.curriculum.toJSON(),
    sampler: state.sampler.snapshot(),
    rolloutSeed: options.config.seed,
    adapterVersion: state.adapters.version,
    ...(lateMetrics ? { lateMetrics: lateMetrics() } : {}),
  };
  await writeCheckpointFile(checkpoint, header, learnerStateFile(workDir));
  // Before the first update the engine serves no adapter of ours: store the learner's initial one.
  const adapter = state.adapters.current ?? adapterFileFor(workDir, at);
  if (!state.adapters.current) await learner.exportAdapter(adapter);
  await options.events.checkpoint(at, { adapter, checkpoint });
  await rm(checkpoint, { force: true });
  state.lastCheckpointStep = at;
}
