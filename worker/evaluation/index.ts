// Evaluation's public surface: the EVAL job and the pieces it is made of.
export { runEvalJob } from "./run-eval-job.js";
export { parseEvalContext, type EvalContext } from "./eval-context.js";
export { planEvaluation, type EvalPlan } from "./eval-plan.js";
export { evaluateBatch } from "./run-batch.js";
export { aggregateItems, type BenchmarkAggregate, type ScoredItem } from "./aggregate.js";
