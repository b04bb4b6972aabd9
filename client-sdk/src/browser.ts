// The browser-safe surface of @icrl-lab/client ("@icrl-lab/client/browser"): the typed client, its
// errors, the generated operations and the config contracts. Nothing here touches the file system,
// so the dashboard bundle can take it whole.
export { createClient, type ClientOptions, type IcrlClient } from "./client.js";
export { itemsOf } from "./batch-items.js";
export { IcrlApiError, IcrlNetworkError, type IcrlErrorCode, type IcrlFieldError } from "./errors.js";
export {
  runConfigSchema,
  validateRunConfig,
  benchmarkConfigSchema,
  type RunConfig,
  type RunConfigInput,
  type BenchmarkConfig,
  METRIC,
  TIME_PREFIX,
} from "../../contracts/index.js";
export * from "./generated/graphql.js";
