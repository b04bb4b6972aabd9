// The worker part's public surface: the Worker that claims and runs jobs, its logger and job runners.
// Importing it loads llama.cpp's bindings: code that needs one module only imports that module's
// entry (worker/engine/files.ts, worker/scoring, worker/tools, ...).
export { Worker, type WorkerOptions, type WorkerSummary } from "./runtime/worker.js";
export { slotOptions, WorkerPool } from "./runtime/worker-pool.js";
export { silentLogger, type Logger } from "./runtime/logger.js";
export { defaultJobRunners, runnableKinds } from "./runtime/runners.js";
export type { JobOutcome, JobRunContext, JobRunner, JobRunners } from "./runtime/job-runner.js";
export { JobInputError } from "./runtime/errors.js";
