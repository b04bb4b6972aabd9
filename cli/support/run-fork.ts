// `icrl run fork RUN`: a new run in the same experiment with the run's config, patched by --set.
// By default it continues from the run's checkpoint (the forkRun mutation, which keeps the model and
// LoRA shape the checkpoint holds weights for); --fresh starts the same config from step 0 instead.
import { ArtifactsDocument, CreateRunDocument, ForkRunDocument, type IcrlClient, type RunFieldsFragment } from "../../client-sdk/src/index.js";
import { mergeConfig, patchFromSettings } from "./config-patch.js";
import { badInput } from "./exit-codes.js";
import { requireRun } from "./resolve.js";

export interface ForkOptions {
  name?: string;
  step?: number;
  set: readonly string[];
  fresh: boolean;
}

export async function forkRun(client: IcrlClient, runId: string, options: ForkOptions): Promise<RunFieldsFragment> {
  const parent = await requireRun(client, runId);
  const patch = patchFromSettings(options.set);
  const name = options.name ?? `${parent.name}-fork`;
  if (options.fresh) {
    if (options.step !== undefined) throw badInput("--fresh starts from step 0; --step picks a checkpoint to continue from. Give one of them.");
    const config = mergeConfig(parent.config as Record<string, unknown>, patch);
    return (await client.mutate(CreateRunDocument, { experimentId: parent.experiment.id, name, config, curriculumId: parent.curriculum?.id ?? null }))
      .createRun;
  }
  const checkpoints = (await client.query(ArtifactsDocument, { runId, kind: "CHECKPOINT" })).artifacts;
  if (checkpoints.length === 0)
    throw badInput(`Run ${runId} has no checkpoint to continue from yet; add --fresh to start a new run with its config from step 0.`);
  return (await client.mutate(ForkRunDocument, { id: runId, name, step: options.step ?? null, configPatch: patch })).forkRun;
}
