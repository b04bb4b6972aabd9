// Configuration of the tools, as plain zod schemas with no runtime dependencies: the run and
// benchmark configs (client-sdk) embed them, so the server, the CLI and the dashboard validate tool
// settings exactly as the worker will.
import { z } from "zod";
import { pythonLimitsSchema } from "./python/limits.js";
import { DEFAULT_MAX_TOKENS, DEFAULT_TOP_K } from "./search/search-options.js";

const pythonConfigSchema = z.discriminatedUnion("kind", [
  pythonLimitsSchema.extend({
    kind: z.literal("local"),
    /** Concurrent sandboxes (default: number of CPUs). */
    slots: z.number().int().positive().optional(),
    /** Slot i runs as uid uidBase + i when the worker is root (default 60000). */
    uidBase: z.number().int().positive().optional(),
    pythonPath: z.string().startsWith("/usr/").optional(),
  }),
  pythonLimitsSchema.extend({
    kind: z.literal("sandbox-fusion"),
    url: z.url(),
  }),
]);

const searchOutputSchema = {
  topK: z.number().int().positive().default(DEFAULT_TOP_K),
  maxTokens: z.number().int().positive().default(DEFAULT_MAX_TOKENS),
};

const searchConfigSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("local"), corpus: z.string().min(1), cacheDir: z.string().min(1).optional(), ...searchOutputSchema }),
  z.object({ kind: z.literal("retriever"), url: z.url(), timeoutMs: z.number().int().positive().optional(), ...searchOutputSchema }),
]);

export const toolsConfigSchema = z.object({
  python: pythonConfigSchema.optional(),
  search: searchConfigSchema.optional(),
});

export type ToolsConfig = z.infer<typeof toolsConfigSchema>;
export type ToolsConfigInput = z.input<typeof toolsConfigSchema>;
