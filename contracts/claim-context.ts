// What `claimJob` hands a worker with a job: everything it needs to run it, so a worker never reads
// other entities itself. The server builds these (server/store/claim-context.ts) and the worker
// validates them before use: a server and a worker of different versions fail with a clear message
// instead of reading undefined fields.
import { z } from "zod";

/** Dataset kinds as the server names them (prompts use the lower-case task names). */
export const DatasetKindSchema = z.enum(["QA", "MATH"]);

const nullable = <T extends z.ZodType>(schema: T) =>
  schema
    .nullable()
    .optional()
    .transform((v) => v ?? undefined);

/** An artifact a job may download (its bytes as a decimal string: they can exceed 2^53). */
export const ArtifactRefSchema = z.object({
  id: z.string(),
  step: z.number().int().nullable(),
  sha256: z.string(),
  bytes: z.string(),
  name: z.string(),
  downloadPath: z.string(),
});
export type ArtifactRef = z.infer<typeof ArtifactRefSchema>;

export const ClaimedDemonstrationSetSchema = z.object({
  id: z.string(),
  name: z.string(),
  task: DatasetKindSchema,
  items: z.array(z.object({ question: z.string(), trajectory: z.string() })),
});
export type ClaimedDemonstrationSet = z.infer<typeof ClaimedDemonstrationSetSchema>;

export const ClaimedDatasetSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: DatasetKindSchema,
  itemCount: z.number().int().nonnegative().optional(),
  splits: z.array(z.string()),
});
export type ClaimedDataset = z.infer<typeof ClaimedDatasetSchema>;

/** A stored curriculum (database columns may hold null where the config leaves a field out). */
export const ClaimedCurriculumSchema = z.object({
  id: z.string().optional(),
  name: z.string().optional(),
  stages: z.array(
    z.object({
      shots: z.number().int().nonnegative(),
      steps: nullable(z.number().int().positive()),
      minSteps: nullable(z.number().int().nonnegative()),
      maxSteps: nullable(z.number().int().positive()),
    }),
  ),
  advanceRules: nullable(
    z.array(
      z.object({ metric: z.string(), window: z.number().int().positive(), threshold: z.number(), op: nullable(z.enum([">=", ">", "<=", "<"])) }),
    ),
  ),
});
export type ClaimedCurriculum = z.infer<typeof ClaimedCurriculumSchema>;

export const TrainClaimContextSchema = z.object({
  kind: z.literal("TRAIN"),
  run: z.object({
    id: z.string(),
    name: z.string(),
    /** The stored run config; the worker parses it with runConfigSchema. */
    config: z.unknown(),
    seed: z.number().int(),
    step: z.number().int().nonnegative(),
    stage: z.number().int().nonnegative().optional(),
    parentRunId: z.string().nullable().optional(),
    forkStep: z.number().int().nullable().optional(),
  }),
  curriculum: ClaimedCurriculumSchema.nullable(),
  demonstrationSet: ClaimedDemonstrationSetSchema.nullable(),
  dataset: ClaimedDatasetSchema.nullable(),
  /** The checkpoint to resume from: this run's latest, or for a fork its parent's at or before forkStep. */
  checkpoint: ArtifactRefSchema.extend({ fromRunId: z.string() }).nullable(),
  /** The ones before it from the same run, newest first (a few): where to fall back when it is unreadable. */
  earlierCheckpoints: z.array(ArtifactRefSchema.extend({ fromRunId: z.string() })).default([]),
});
export type TrainClaimContext = z.infer<typeof TrainClaimContextSchema>;

export const EvalClaimContextSchema = z.object({
  kind: z.literal("EVAL"),
  benchmarkRun: z.object({
    id: z.string(),
    name: z.string(),
    model: z.string().min(1),
    /** The stored benchmark config; the worker parses it with benchmarkConfigSchema. */
    config: z.unknown(),
    total: z.number().int().nonnegative(),
  }),
  dataset: ClaimedDatasetSchema,
  adapter: ArtifactRefSchema.partial({ step: true, name: true }).nullable(),
  demonstrationSet: ClaimedDemonstrationSetSchema.nullable(),
  completedItemIndexes: z.array(z.number().int()).default([]),
  /** Scores of items an earlier attempt stored, so the aggregate covers the whole run after a resume. */
  completedItems: z
    .array(z.object({ itemIndex: z.number().int(), score: z.number(), metrics: z.record(z.string(), z.unknown()).nullable().optional() }))
    .optional(),
});
export type EvalClaimContext = z.infer<typeof EvalClaimContextSchema>;

export const ClaimContextSchema = z.discriminatedUnion("kind", [TrainClaimContextSchema, EvalClaimContextSchema]);
export type ClaimContext = z.infer<typeof ClaimContextSchema>;
/** What the server builds: the parsed types' inputs (defaults not yet applied). */
export type TrainClaimContextInput = z.input<typeof TrainClaimContextSchema>;
export type EvalClaimContextInput = z.input<typeof EvalClaimContextSchema>;

/** One line per problem, with the path of each bad field, for an error message. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`).join("; ");
}
