// Picks the checkpoint a TRAIN job resumes from: the newest that downloads intact (its sha256 matches
// what the server recorded) and reads as a checkpoint of the step it claims. A corrupt newest
// checkpoint costs the steps since the one before it, instead of the whole run; an outage while
// downloading is not corruption and is passed on, for the attempt to be retried.
import type { ArtifactRef } from "../../contracts/index.js";
import { JobInputError } from "../runtime/errors.js";
import { readCheckpointHeader, type TrainerCheckpoint } from "./checkpoint-file.js";

export interface CheckpointCandidate extends ArtifactRef {
  fromRunId: string;
}

export async function usableCheckpoint(
  candidates: readonly CheckpointCandidate[],
  fetch: (ref: CheckpointCandidate) => Promise<string>,
  warn: (fields: Record<string, unknown>, msg: string) => void,
): Promise<{ ref: CheckpointCandidate & { step: number }; file: string; header: TrainerCheckpoint }> {
  const problems: string[] = [];
  for (const ref of candidates) {
    let problem: string;
    try {
      if (ref.step === null) throw new JobInputError("it has no step");
      const file = await fetch(ref);
      const header = await readCheckpointHeader(file).catch((error: Error) => {
        throw new JobInputError(`it is not a readable checkpoint (${error.message})`);
      });
      if (header.step !== ref.step) throw new JobInputError(`its header says step ${header.step}, the server says ${ref.step}`);
      return { ref: { ...ref, step: ref.step }, file, header };
    } catch (error) {
      if (!(error instanceof JobInputError)) throw error;
      problem = error.message;
    }
    problems.push(`step ${ref.step} (artifact ${ref.id}): ${problem}`);
    const next = candidates[candidates.indexOf(ref) + 1];
    warn(
      { artifact: ref.id, step: ref.step, problem, fallback: next ? { artifact: next.id, step: next.step } : null },
      next ? "checkpoint unusable; falling back to the one before it" : "checkpoint unusable; no earlier one to fall back to",
    );
  }
  throw new JobInputError(`No usable checkpoint to resume from: ${problems.join("; ")}.`);
}
