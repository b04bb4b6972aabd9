// The claim context of a TRAIN job, validated with the contract the server builds it against, and the
// run config in it parsed with its defaults, so the job never reads a field that is not there.
import { describeIssues, runConfigSchema, TrainClaimContextSchema, type RunConfig, type TrainClaimContext } from "../../contracts/index.js";
import { JobInputError } from "../runtime/errors.js";

export type TrainContext = TrainClaimContext & { config: RunConfig };

export function parseTrainContext(raw: unknown): TrainContext {
  const parsed = TrainClaimContextSchema.safeParse(raw);
  if (!parsed.success) throw new JobInputError(`TRAIN job context is not what this worker understands: ${describeIssues(parsed.error)}`);
  const config = runConfigSchema.safeParse(parsed.data.run.config);
  if (!config.success) throw new JobInputError(`Run ${parsed.data.run.id} has an invalid config: ${describeIssues(config.error)}`);
  return { ...parsed.data, config: config.data };
}
