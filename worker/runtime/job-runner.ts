// The contract between the worker loop and the code that runs one kind of job. The loop claims,
// heartbeats and finishes jobs; a runner only does the work and says how it ended:
// - completed: everything is reported (its outbox streams flushed); the loop calls completeJob(result);
// - cancelled: the user cancelled (lease.cancelRequested); the loop calls completeJob and the server
//   records CANCELLED;
// - interrupted: the worker is shutting down (stopRequested()); what was done is reported, and the
//   loop releases the job so another worker resumes it.
// Throwing LeaseLostError abandons the job silently; a failure that would happen again (JobInputError,
// a model the learner refuses, a request the server rejects: see job-failure.ts) fails it for good, and
// any other error fails the attempt (the server requeues it until its attempts run out).
import type { IcrlClient, JobKind } from "../../client-sdk/src/index.js";
import type { AdapterCache } from "./adapter-cache.js";
import type { AllowedPaths } from "./allowed-paths.js";
import type { EngineCache } from "./engine-cache.js";
import type { JobLease, Outbox } from "../../client-sdk/src/index.js";
import type { Logger } from "./logger.js";

export interface JobRunContext {
  client: IcrlClient;
  job: { id: string; kind: JobKind; attempts: number };
  /** The claim's `context` JSON: everything the job needs (see server jobContext). */
  context: unknown;
  lease: JobLease;
  outbox: Outbox;
  logger: Logger;
  engines: EngineCache;
  adapters: AdapterCache;
  /** This worker's private directory (caches, scratch files). */
  dataDir: string;
  /** Where a job may read the local files its config names: check every such path here before opening it. */
  allowedPaths: AllowedPaths;
  /** True once the worker is shutting down: stop at the next boundary and return "interrupted". */
  stopRequested(): boolean;
  /** Aborts when the lease is lost or a shutdown ran out of time: give up waiting on the server. */
  signal: AbortSignal;
}

export type JobOutcome =
  | { status: "completed"; result: Record<string, unknown> }
  | { status: "cancelled"; result?: Record<string, unknown> }
  | { status: "interrupted" };

export type JobRunner = (ctx: JobRunContext) => Promise<JobOutcome>;

export type JobRunners = Partial<Record<JobKind, JobRunner>>;
