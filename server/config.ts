// Server configuration from flags and environment, validated once at start so a typo fails fast
// with the variable's name instead of surfacing later as a strange runtime error.
import path from "node:path";
import { z } from "zod";

const schema = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(4000),
  host: z.string().default("0.0.0.0"),
  databaseUrl: z.string().url().optional(),
  dataDir: z.string().default(".icrl/pg"),
  artifactDir: z.string().default(".icrl/artifacts"),
  adminKey: z.string().min(16, "ICRL_ADMIN_KEY must be at least 16 characters").optional(),
  maxArtifactBytes: z.coerce
    .number()
    .int()
    .positive()
    .default(2 * 1024 ** 3),
  maxRequestBytes: z.coerce
    .number()
    .int()
    .positive()
    .default(8 * 1024 * 1024),
  maxBatchItems: z.coerce.number().int().positive().default(1000),
  maxBatchBytes: z.coerce
    .number()
    .int()
    .positive()
    .default(4 * 1024 * 1024),
  maxQueryDepth: z.coerce.number().int().positive().default(12),
  maxQueryCost: z.coerce.number().int().positive().default(50_000),
  leaseSeconds: z.coerce.number().int().positive().default(60),
  reaperIntervalMs: z.coerce.number().int().positive().default(2000),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type ServerConfig = z.infer<typeof schema>;
export type ServerConfigInput = z.input<typeof schema>;

/** Flags win over environment variables; unknown values are rejected with the setting's name. */
export function loadServerConfig(flags: Partial<ServerConfigInput> = {}, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const fromEnv: Partial<ServerConfigInput> = {
    port: env.ICRL_PORT ?? env.PORT,
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.ICRL_DATA_DIR,
    artifactDir: env.ICRL_ARTIFACT_DIR,
    adminKey: env.ICRL_ADMIN_KEY || undefined,
    maxArtifactBytes: env.ICRL_MAX_ARTIFACT_BYTES,
    leaseSeconds: env.ICRL_LEASE_SECONDS,
    logLevel: env.ICRL_LOG_LEVEL as ServerConfigInput["logLevel"],
  };
  const merged = { ...dropUndefined(fromEnv), ...dropUndefined(flags) };
  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "config"}: ${i.message}`).join("; ");
    throw new Error(`Invalid server configuration: ${problems}`);
  }
  const config = parsed.data;
  return { ...config, dataDir: path.resolve(config.dataDir), artifactDir: path.resolve(config.artifactDir) };
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== "")) as Partial<T>;
}
