// Where the curriculum continues after a checkpoint: a run resuming itself picks up exactly where it
// stopped; a fork whose curriculum was patched is placed in the new one.
import { CurriculumState, type CurriculumSpecInput } from "../icrl/curriculum.js";

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
