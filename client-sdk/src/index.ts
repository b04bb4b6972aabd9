// @icrl-lab/client: everything a Node program needs to drive ICRL Lab over its GraphQL API.
// - the typed client (queries, mutations, subscriptions that resume without gaps) and its errors;
// - every operation in client-sdk/operations, generated with its types (e.g. CreateExperimentDocument);
// - the run logger, so a plain script can log metrics and rollouts to a run;
// - the delivery kit a worker builds on: an outbox that batches, retries and spills to disk, backoff,
//   failure classification and the job lease.
// It depends on graphql, graphql-ws, ws and zod only; nothing of the server or the worker.
export * from "./browser.js";
export {
  createRunLogger,
  startLoggedRun,
  RunLogger,
  type RunLoggerOptions,
  type StartLoggedRunOptions,
  type FinishOptions,
  type LoggerStats,
} from "./run-logger.js";
export {
  Outbox,
  OutboxStream,
  OutboxStreamFailed,
  type OutboxLogger,
  type OutboxOptions,
  type StreamOptions,
  type StreamStats,
} from "./delivery/outbox.js";
export { Backoff, sleep, type BackoffOptions } from "./delivery/backoff.js";
export { retryTransient, type RetryOptions } from "./delivery/retry.js";
export {
  classifyFailure,
  errorMessage,
  isRetryable,
  LeaseLostError,
  MAX_SERVER_ERROR_RETRIES,
  type FailureKind,
} from "./delivery/failures.js";
export { JobLease, type JobLeaseOptions } from "./delivery/job-lease.js";
export { Wakeup } from "./delivery/wakeup.js";
export { SpillFile } from "./delivery/spill-file.js";
