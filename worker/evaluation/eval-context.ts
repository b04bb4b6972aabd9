// The claim context of an EVAL job (server/graphql/resolvers/workers.ts jobContext), validated, with
// the benchmark config's defaults applied, so the runner works with one typed object.
import { z } from "zod";
import { benchmarkConfigSchema, type BenchmarkConfig } from "../../contracts/index.js";
import { JobInputError } from "../runtime/errors.js";

const datasetKind = z.enum(["QA", "MATH"]);

const evalContextSchema = z.object({
  kind: z.literal("EVAL"),
  benchmarkRun: z.object({
    id: z.string(),
    name: z.string(),
    model: z.string().min(1),
    config: z.unknown(),
    total: z.number().int().nonnegative(),
  }),
  dataset: z.object({ id: z.string(), name: z.string(), kind: datasetKind }),
  adapter: z
    .object({ id: z.string(), sha256: z.string(), downloadPath: z.string(), name: z.string().optional(), step: z.number().nullable().optional() })
    .nullable(),
  demonstrationSet: z
    .object({
      id: z.string(),
      name: z.string(),
      task: datasetKind,
      items: z.array(z.object({ question: z.string(), trajectory: z.string() })),
    })
    .nullable(),
  completedItemIndexes: z.array(z.number().int()).default([]),
  /** Scores of items an earlier attempt stored, so the aggregate covers the whole run after a resume. */
  completedItems: z
    .array(z.object({ itemIndex: z.number().int(), score: z.number(), metrics: z.record(z.string(), z.unknown()).nullable().optional() }))
    .optional(),
});

export type EvalContext = Omit<z.infer<typeof evalContextSchema>, "benchmarkRun"> & {
  benchmarkRun: Omit<z.infer<typeof evalContextSchema>["benchmarkRun"], "config"> & { config: BenchmarkConfig };
};

export function parseEvalContext(raw: unknown): EvalContext {
  const parsed = evalContextSchema.safeParse(raw);
  if (!parsed.success) {
    throw new JobInputError(
      `EVAL job context is not what this worker understands: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  }
  const config = benchmarkConfigSchema.safeParse(parsed.data.benchmarkRun.config ?? {});
  if (!config.success) {
    throw new JobInputError(`Invalid benchmark config: ${config.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  return { ...parsed.data, benchmarkRun: { ...parsed.data.benchmarkRun, config: config.data } };
}
