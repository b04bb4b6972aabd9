// What an evaluation does, derived once from the job: the task and its prompt wording, the
// demonstrations (k-shot only), the metric, decoding, budgets and the tools to build. Pure, so the
// choices can be tested without a model.
import type { SamplingOptions } from "../engine/types.js";
import { defaultDemonstrationsFor } from "../icrl/default-demonstrations.js";
import { defaultTemplateFor } from "../icrl/default-templates.js";
import {
  metricForTask,
  type ChatTemplateArgs,
  type DemonstrationSet,
  type MultiGold,
  type PromptTemplate,
  type RolloutLoop,
  type TaskKind,
  type TurnCapAction,
} from "../../contracts/index.js";
import type { MetricName } from "../scoring/index.js";
import type { ToolsConfigInput } from "../tools/registry.js";
import { claimedDemonstrations } from "../runtime/claimed-demonstrations.js";
import { JobInputError } from "../runtime/errors.js";
import type { EvalContext } from "./eval-context.js";

export interface EvalPlan {
  task: TaskKind;
  metric: MetricName;
  /** Metrics computed for every item besides the configured one (em and f1 for QA). */
  extraMetrics: MetricName[];
  template: PromptTemplate;
  chatTemplateArgs: ChatTemplateArgs | undefined;
  shots: number;
  demonstrations: DemonstrationSet | null;
  sampling: SamplingOptions;
  maxToolTurns: number;
  maxTurnTokens: number;
  maxTotalTokens: number;
  /** Rollouts per item, averaged into its score (avg@k). */
  samples: number;
  turnCapAction: TurnCapAction;
  loop: RolloutLoop;
  multiGold: MultiGold;
  contextSize: number;
  parallel: number;
  split: string | undefined;
  limit: number;
  tools: ToolsConfigInput;
}

export function planEvaluation(context: EvalContext, options: { searchCacheDir?: string } = {}): EvalPlan {
  const config = context.benchmarkRun.config;
  const task: TaskKind = config.task ?? (context.dataset.kind === "MATH" ? "math" : "qa");
  // The same task default as a training run's reward (contracts: metricForTask).
  const metric: MetricName = config.metric ?? metricForTask(task);
  const extraMetrics: MetricName[] = task === "qa" ? (["em", "f1"] as const).filter((m) => m !== metric) : [];

  let demonstrations: DemonstrationSet | null = null;
  if (config.shots > 0) {
    const set = context.demonstrationSet;
    demonstrations = set ? claimedDemonstrations(set) : defaultDemonstrationsFor(task);
    if (demonstrations.task !== task) {
      throw new JobInputError(`Demonstration set ${demonstrations.name} is for ${demonstrations.task}, but this benchmark is a ${task} task.`);
    }
  }

  const d = config.decoding;
  const sampling: SamplingOptions =
    d.temperature === 0 ? { temperature: 0, seed: d.seed } : { temperature: d.temperature, topK: d.topK, topP: d.topP, minP: 0, seed: d.seed };

  return {
    task,
    metric,
    extraMetrics,
    template: config.template ?? defaultTemplateFor(task),
    chatTemplateArgs: config.chatTemplateArgs,
    shots: config.shots,
    demonstrations,
    sampling,
    maxToolTurns: config.maxToolTurns,
    maxTurnTokens: config.maxTurnTokens,
    maxTotalTokens: config.maxTotalTokens,
    samples: config.samples,
    turnCapAction: config.turnCapAction,
    loop: config.loop,
    multiGold: config.multiGold,
    contextSize: config.contextSize,
    parallel: config.parallel,
    split: config.split,
    limit: context.benchmarkRun.total,
    tools: toolsConfig(config.tools, options.searchCacheDir),
  };
}

/** The benchmark's tools as the registry builds them; a local search index is cached in the worker's dir. */
function toolsConfig(tools: EvalContext["benchmarkRun"]["config"]["tools"], searchCacheDir?: string): ToolsConfigInput {
  const out: ToolsConfigInput = { ...tools };
  if (tools.search?.kind === "local" && !tools.search.cacheDir && searchCacheDir) out.search = { ...tools.search, cacheDir: searchCacheDir };
  return out;
}
