// Which job kinds this worker can run, and with what. A worker only claims the kinds listed, so a
// job waits for a worker that can run it.
import type { JobKind } from "../../client-sdk/src/index.js";
import { runEvalJob } from "../evaluation/run-eval-job.js";
import { runTrainJob } from "../training/train-job.js";
import type { JobRunners } from "./job-runner.js";

export const defaultJobRunners: JobRunners = {
  EVAL: runEvalJob,
  TRAIN: runTrainJob,
};

export function runnableKinds(runners: JobRunners): JobKind[] {
  return (Object.keys(runners) as JobKind[]).filter((kind) => typeof runners[kind] === "function");
}
