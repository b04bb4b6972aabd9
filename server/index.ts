// The server's public surface: what the CLI, the benchmarks and the test support may use. Everything
// else under server/ is internal and may change shape without notice; keep this list short.
export { startServer, PROJECT_ROOT, type RunningServer, type StartServerOptions } from "./main.js";
export { loadServerConfig, ServerConfigError, MIN_ADMIN_KEY_LENGTH, type ServerConfig, type ServerConfigInput } from "./config.js";
export { createLogger, type Logger } from "./logger.js";
// API key secrets: the demo makes its own keys before the server exists and recognises them later.
export { generateSecret, displayPrefix } from "./auth/keys.js";
// A throwaway database per test file (or benchmark), dropped when done.
export { createTestDatabase, type TestDatabase } from "./db/database.js";
export { DataDirBusyError, liveDataDirOwner, type OwnerRecord } from "./db/data-dir-owner.js";
// Direct ingestion for benchmarks that load millions of points without going through HTTP.
export { insertMetrics, type MetricRow } from "./ingest/metrics.js";
