// `icrl run create -f FILE`: validate the file locally, find or create the experiment, create the
// run. Server-side field errors (an unknown dataset id, say) are pointed at the file's lines too.
import { type IcrlClient, IcrlApiError, CreateExperimentDocument, CreateRunDocument, type RunFieldsFragment } from "../../client-sdk/src/index.js";
import { badInput, notFound } from "./exit-codes.js";
import { findExperiment, isId } from "./resolve.js";
import { locateServerErrors, readRunDefinition } from "./run-file.js";

export async function createRunFromFile(
  client: IcrlClient,
  file: string,
  overrides: { experiment?: string; name?: string },
): Promise<{ run: RunFieldsFragment; experimentCreated: boolean }> {
  const { definition, map } = await readRunDefinition(file, overrides);
  const wanted = definition.experiment!;
  let experiment = await findExperiment(client, wanted);
  let experimentCreated = false;
  if (!experiment) {
    if (isId(wanted)) throw notFound(`No experiment with id ${wanted}.`);
    try {
      experiment = (await client.mutate(CreateExperimentDocument, { name: wanted })).createExperiment;
      experimentCreated = true;
    } catch (err) {
      // Someone created it between our lookup and our create: use theirs.
      if (!(err instanceof IcrlApiError && err.code === "CONFLICT")) throw err;
      experiment = await findExperiment(client, wanted);
      if (!experiment) throw err;
    }
  }
  try {
    const run = (
      await client.mutate(CreateRunDocument, {
        experimentId: experiment.id,
        name: definition.name!,
        config: definition.rawConfig,
        curriculumId: definition.curriculumId,
      })
    ).createRun;
    return { run, experimentCreated };
  } catch (err) {
    if (err instanceof IcrlApiError && err.code === "BAD_USER_INPUT" && err.fieldErrors.length) {
      throw badInput(`The server rejected ${file}.`, locateServerErrors(file, map, err.fieldErrors));
    }
    throw err;
  }
}
