// Which job kinds this worker can run, and with what. TRAIN plugs in here once the trainer exists;
// until then a worker only claims the kinds listed, so a TRAIN job waits for a worker that has it.
import type { JobKind } from "../../client-sdk/index.js";
import { runEvalJob } from "./eval/run-eval-job.js";
import type { JobRunners } from "./job-runner.js";

export const defaultJobRunners: JobRunners = {
  EVAL: runEvalJob,
};

export function runnableKinds(runners: JobRunners): JobKind[] {
  return (Object.keys(runners) as JobKind[]).filter((kind) => typeof runners[kind] === "function");
}
