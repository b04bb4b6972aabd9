// Configuration of the tools, as plain zod schemas: the run and benchmark configs embed them, so the
// server, the CLI and the dashboard validate tool settings exactly as the worker will.
import { z } from "zod";

/** Passages per query and the token budget of one search observation (Search-R1's values). */
export const DEFAULT_SEARCH_TOP_K = 3;
export const DEFAULT_SEARCH_MAX_TOKENS = 500;

/**
 * Limits of one Python call. The same schema serves the local sandbox, the SandboxFusion client, the
 * registry config and the CLI flags, so a call behaves the same wherever it is configured.
 */
export const pythonLimitsSchema = z.object({
  /** Wall-clock limit of one call; the CPU-time limit is derived from it. */
  timeoutS: z.number().positive().default(10),
  /** Address-space limit (RLIMIT_AS) of every process in the sandbox. */
  memoryMb: z.number().int().positive().default(512),
  /** Processes and threads one call may hold at once (fork bombs stop here). */
  maxProcesses: z.number().int().min(4).default(64),
  /** stdout + stderr bytes captured; past this the call is killed and reported as OUTPUT_LIMIT. */
  outputBytes: z.number().int().positive().default(16_384),
  /** Length of the observation handed back to the model (longer text is cut in the middle). */
  observationChars: z.number().int().min(64).default(16_384),
  /** Largest file a call may write (RLIMIT_FSIZE). */
  fileSizeMb: z.number().int().positive().default(16),
  /** Size of each writable tmpfs (/tmp and /dev/shm) inside the sandbox; it is RAM, so keep it small. */
  tmpfsMb: z.number().int().positive().default(64),
});

export type PythonLimits = z.infer<typeof pythonLimitsSchema>;
export type PythonLimitsInput = z.input<typeof pythonLimitsSchema>;

const pythonConfigSchema = z.discriminatedUnion("kind", [
  pythonLimitsSchema
    .extend({
      kind: z.literal("local"),
      /** Concurrent sandboxes (default: number of CPUs). */
      slots: z.number().int().positive().optional(),
      /** Slot i runs as uid uidBase + i when the worker is root (default 60000). */
      uidBase: z.number().int().positive().optional(),
      pythonPath: z.string().startsWith("/usr/").optional(),
    })
    .strict(),
  pythonLimitsSchema
    .extend({
      kind: z.literal("sandbox-fusion"),
      url: z.url(),
    })
    .strict(),
]);

const searchOutputSchema = {
  topK: z.number().int().positive().default(DEFAULT_SEARCH_TOP_K),
  maxTokens: z.number().int().positive().default(DEFAULT_SEARCH_MAX_TOKENS),
};

const searchConfigSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("local"), corpus: z.string().min(1), cacheDir: z.string().min(1).optional(), ...searchOutputSchema }),
  z.strictObject({ kind: z.literal("retriever"), url: z.url(), timeoutMs: z.number().int().positive().optional(), ...searchOutputSchema }),
]);

export const toolsConfigSchema = z.strictObject({
  python: pythonConfigSchema.optional(),
  search: searchConfigSchema.optional(),
});

export type ToolsConfig = z.infer<typeof toolsConfigSchema>;
export type ToolsConfigInput = z.input<typeof toolsConfigSchema>;
