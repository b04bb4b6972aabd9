// Training's public surface: the loop, the set-up it shares with the TRAIN job, and the pieces the
// demo and the step benchmark use.
export { runTraining, evaluateZeroShot, resumedCurriculum } from "./train-loop.js";
export type { TrainingEvents, TrainingItem, TrainingOptions, TrainingOutcome } from "./types.js";
export { setUpTraining, learnerInitParams, curriculumFor, type TrainingSetup, type TrainingSetupInput } from "./train-setup.js";
export { StageTimer } from "./stage-timer.js";
export { runTrainJob } from "./train-job.js";
export { uploadArtifact } from "./upload-artifact.js";
export { trajectorySequence, warmStart } from "./warm-start.js";
