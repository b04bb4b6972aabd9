// @icrl/client-sdk: typed operations generated from schema.graphql plus a client that resumes
// subscriptions. Import documents from "./generated/graphql.js" (e.g. CreateExperimentDocument).
export { createClient, type ClientOptions, type IcrlClient } from "./client.js";
export { IcrlApiError, IcrlNetworkError, type IcrlErrorCode, type IcrlFieldError } from "./errors.js";
export { runConfigSchema, validateRunConfig, type RunConfig, type RunConfigInput } from "./run-config.js";
export {
  createRunLogger,
  startLoggedRun,
  RunLogger,
  type RunLoggerOptions,
  type StartLoggedRunOptions,
  type FinishOptions,
  type LoggerStats,
} from "./logger.js";
export { benchmarkConfigSchema, type BenchmarkConfig } from "./benchmark-config.js";
export * from "./generated/graphql.js";
