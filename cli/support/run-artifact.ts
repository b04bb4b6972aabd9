// One artifact of a training run picked by kind and step (or the latest): `icrl artifact download
// --run` and `icrl bench run --run` name checkpoints the same way, with the same errors.
import { ArtifactsDocument, type ArtifactFieldsFragment, type ArtifactKind, type IcrlClient } from "../../client-sdk/src/index.js";
import { badInput } from "./exit-codes.js";

export type StepArtifact = ArtifactFieldsFragment & { step: number };

/** The run's artifact of `kind` at exactly `step`, or its latest; exit 2 with the steps there are otherwise. */
export async function runArtifact(client: IcrlClient, runId: string, kind: ArtifactKind, step: number | undefined): Promise<StepArtifact> {
  const found = (await client.query(ArtifactsDocument, { runId, kind })).artifacts
    .filter((a): a is StepArtifact => a.step != null)
    .sort((a, b) => a.step - b.step);
  const what = kind.toLowerCase();
  if (found.length === 0) throw badInput(`Run ${runId} has no ${what} checkpoint yet (a run stores one every checkpointEvery steps).`);
  const picked = step === undefined ? found.at(-1) : found.find((a) => a.step === step);
  if (!picked)
    throw badInput(
      `Run ${runId} has no ${what} checkpoint at step ${step}; its ${what} checkpoints are at steps ${found.map((a) => a.step).join(", ")}.`,
    );
  return picked;
}
