// `icrl bench run --run RUN`: the benchmark settings under which a training run's adapter was
// trained and validated. An adapter only scores under the prompt wording, tools and budgets it
// learned with; evaluating it with the task's default template scores it near zero.
import type { IcrlClient } from "../../client-sdk/src/index.js";
import { rewardMetricOf, runConfigSchema } from "../../contracts/index.js";
import { badInput } from "./exit-codes.js";
import { requireRun } from "./resolve.js";
import { runArtifact } from "./run-artifact.js";

export interface BenchFromRun {
  runName: string;
  model: string;
  datasetId: string;
  adapter: { id: string; step: number };
  /** Benchmark config defaults taken from the run; flags and --config override them. */
  config: Record<string, unknown>;
}

export async function benchFromRun(client: IcrlClient, runId: string, step: number | undefined): Promise<BenchFromRun> {
  const run = await requireRun(client, runId);
  const parsed = runConfigSchema.safeParse(run.config);
  if (!parsed.success)
    throw badInput(`Run ${runId} has a config this CLI cannot read (${parsed.error.issues[0]?.message}); pass --model and --dataset.`);
  const config = parsed.data;

  const adapter = await runArtifact(client, runId, "ADAPTER", step);

  return {
    runName: run.name,
    model: config.model.path,
    datasetId: config.dataset.id,
    adapter: { id: adapter.id, step: adapter.step },
    config: {
      // The run's own held-out split when it has one, as its validation scored it.
      ...(config.dataset.validationSplit ? { split: config.dataset.validationSplit } : {}),
      task: config.task,
      metric: rewardMetricOf(config),
      tools: config.tools,
      ...(config.template ? { template: config.template } : {}),
      ...(config.model.chatTemplateArgs ? { chatTemplateArgs: config.model.chatTemplateArgs } : {}),
      ...(config.demonstrations.setId ? { demonstrationSetId: config.demonstrations.setId } : {}),
      maxToolTurns: config.rollout.maxToolTurns,
      maxTurnTokens: config.rollout.maxTurnTokens,
      maxTotalTokens: config.rollout.maxTotalTokens,
      // The loop it trained in, and how its reward matched several golds.
      turnCapAction: config.rollout.turnCapAction,
      loop: config.rollout.loop,
      multiGold: config.reward.multiGold,
      contextSize: config.model.contextSize,
    },
  };
}
