// `icrl run create -f FILE`: validate the file locally, find or create the experiment, create the
// run. Server-side field errors (an unknown dataset id, say) are pointed at the file's lines too.
import {
  type IcrlClient,
  IcrlApiError,
  CreateExperimentDocument,
  CreateRunDocument,
  type ExperimentFieldsFragment,
  type RunFieldsFragment,
} from "../../client-sdk/src/index.js";
import { badInput, notFound } from "./exit-codes.js";
import { findExperiment, isId } from "./resolve.js";
import { locateServerErrors, readRunDefinition } from "./run-file.js";

/** The experiment by id or name; a name that does not exist yet is created. */
export async function findOrCreateExperiment(
  client: IcrlClient,
  wanted: string,
): Promise<{ experiment: ExperimentFieldsFragment; created: boolean }> {
  const found = await findExperiment(client, wanted);
  if (found) return { experiment: found, created: false };
  if (isId(wanted)) throw notFound(`No experiment with id ${wanted}.`);
  try {
    return { experiment: (await client.mutate(CreateExperimentDocument, { name: wanted })).createExperiment, created: true };
  } catch (err) {
    // Someone created it between our lookup and our create: use theirs.
    if (!(err instanceof IcrlApiError && err.code === "CONFLICT")) throw err;
    const theirs = await findExperiment(client, wanted);
    if (!theirs) throw err;
    return { experiment: theirs, created: false };
  }
}

export async function createRunFromFile(
  client: IcrlClient,
  file: string,
  overrides: { experiment?: string; name?: string },
): Promise<{ run: RunFieldsFragment; experimentCreated: boolean }> {
  const { definition, map } = await readRunDefinition(file, overrides);
  const { experiment, created: experimentCreated } = await findOrCreateExperiment(client, definition.experiment!);
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
