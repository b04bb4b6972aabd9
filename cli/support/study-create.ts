// `icrl study create -f FILE`: validate the file locally, find or create the experiment, create the
// study. Field errors the server still finds (an unknown dataset id, say) are pointed at the file too.
import { CreateStudyDocument, type IcrlClient, IcrlApiError, type StudyFieldsFragment } from "../../client-sdk/src/index.js";
import { badInput } from "./exit-codes.js";
import { findOrCreateExperiment } from "./run-create.js";
import { readStudyDefinition, type StudyFileOverrides } from "./study-file.js";

export async function createStudyFromFile(
  client: IcrlClient,
  file: string,
  overrides: StudyFileOverrides,
): Promise<{ study: StudyFieldsFragment; experimentCreated: boolean }> {
  const { definition, locateServerErrors } = await readStudyDefinition(file, overrides);
  const { experiment, created } = await findOrCreateExperiment(client, definition.experiment!);
  try {
    const study = (
      await client.mutate(CreateStudyDocument, {
        input: {
          experimentId: experiment.id,
          name: definition.name!,
          description: definition.description,
          baseConfig: definition.baseConfig,
          arms: definition.arms,
          seeds: definition.seeds,
          baselineArm: definition.baselineArm,
        },
      })
    ).createStudy;
    return { study, experimentCreated: created };
  } catch (err) {
    if (err instanceof IcrlApiError && err.code === "BAD_USER_INPUT" && err.fieldErrors.length) {
      throw badInput(`The server rejected ${file}.`, locateServerErrors(err.fieldErrors));
    }
    throw err;
  }
}
