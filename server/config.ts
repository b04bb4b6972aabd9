// Server configuration from flags and environment, validated once at start so a typo fails fast
// with the variable's name instead of surfacing later as a strange runtime error.
import path from "node:path";
import { z } from "zod";

/** Shorter keys are guessable; the README's server section states this minimum. */
export const MIN_ADMIN_KEY_LENGTH = 16;
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
const PORT_RULE = "must be a whole number from 0 to 65535";
const LEASE_RULE = "must be a whole number of seconds above 0 (default 60)";

// Errors name the flag or variable the user set, not the field it lands in.
const SETTING_NAMES: Record<string, string> = {
  port: "--port / ICRL_PORT",
  host: "--host",
  databaseUrl: "--database-url / DATABASE_URL",
  dataDir: "--data-dir / ICRL_DATA_DIR",
  artifactDir: "--artifact-dir / ICRL_ARTIFACT_DIR",
  maxQueryDepth: "ICRL_MAX_QUERY_DEPTH",
  maxQueryCost: "ICRL_MAX_QUERY_COST",
  adminKey: "ICRL_ADMIN_KEY",
  maxArtifactBytes: "ICRL_MAX_ARTIFACT_BYTES",
  leaseSeconds: "ICRL_LEASE_SECONDS",
  logLevel: "ICRL_LOG_LEVEL",
};

const schema = z.object({
  port: z.coerce.number().int(PORT_RULE).min(0, PORT_RULE).max(65535, PORT_RULE).default(4000),
  // Loopback unless told otherwise: the first start prints the admin key (README, Server).
  host: z.string().default("127.0.0.1"),
  databaseUrl: z.string().url("must be a URL such as postgres://user:password@host:5432/icrl").optional(),
  dataDir: z.string().default(".icrl/pg"),
  artifactDir: z.string().default(".icrl/artifacts"),
  adminKey: z
    .string()
    .min(MIN_ADMIN_KEY_LENGTH, `must be at least ${MIN_ADMIN_KEY_LENGTH} characters (or unset it to have one generated)`)
    .optional(),
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
  leaseSeconds: z.coerce.number(LEASE_RULE).int(LEASE_RULE).positive(LEASE_RULE).default(60),
  reaperIntervalMs: z.coerce.number().int().positive().default(2000),
  logLevel: z.enum(LOG_LEVELS, `must be one of ${LOG_LEVELS.join(", ")}`).default("info"),
});

export type ServerConfig = z.infer<typeof schema>;
export type ServerConfigInput = z.input<typeof schema>;

/** A setting the user gave is unusable; the message names it and what it must be. */
export class ServerConfigError extends Error {
  override name = "ServerConfigError";
}

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
    maxQueryDepth: env.ICRL_MAX_QUERY_DEPTH,
    maxQueryCost: env.ICRL_MAX_QUERY_COST,
    logLevel: env.ICRL_LOG_LEVEL as ServerConfigInput["logLevel"],
  };
  const merged = { ...dropUndefined(fromEnv), ...dropUndefined(flags) };
  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const key = i.path.join(".");
      return SETTING_NAMES[key] ? `${SETTING_NAMES[key]} ${i.message}` : `${key || "config"}: ${i.message}`;
    });
    throw new ServerConfigError(`Invalid server configuration: ${problems.join("; ")}`);
  }
  const config = parsed.data;
  return { ...config, dataDir: path.resolve(config.dataDir), artifactDir: path.resolve(config.artifactDir) };
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== "")) as Partial<T>;
}
