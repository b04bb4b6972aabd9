// The claim context of an EVAL job, validated with the contract the server builds it against, with the
// benchmark config's defaults applied, so the runner works with one typed object.
import { describeIssues, parseBenchmarkConfig, EvalClaimContextSchema, type BenchmarkConfig, type EvalClaimContext } from "../../contracts/index.js";
import { JobInputError } from "../runtime/errors.js";

export type EvalContext = Omit<EvalClaimContext, "benchmarkRun"> & {
  benchmarkRun: Omit<EvalClaimContext["benchmarkRun"], "config"> & { config: BenchmarkConfig };
};

export function parseEvalContext(raw: unknown): EvalContext {
  const parsed = EvalClaimContextSchema.safeParse(raw);
  if (!parsed.success) throw new JobInputError(`EVAL job context is not what this worker understands: ${describeIssues(parsed.error)}`);
  const config = parseBenchmarkConfig(parsed.data.benchmarkRun.config ?? {});
  if (!config.success) throw new JobInputError(`Invalid benchmark config: ${describeIssues(config.error)}`);
  return { ...parsed.data, benchmarkRun: { ...parsed.data.benchmarkRun, config: config.data } };
}
