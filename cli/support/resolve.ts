// Turn what a user types (an id or a name) into an entity, with exit code 3 when it does not exist.
import {
  type IcrlClient,
  type DatasetFieldsFragment,
  DatasetsDocument,
  ExperimentDocument,
  ExperimentsDocument,
  RunDetailDocument,
  type ExperimentFieldsFragment,
  type RunDetailQuery,
} from "../../client-sdk/src/index.js";
import { badInput, notFound } from "./exit-codes.js";
import { pages } from "./paginate.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isId = (text: string) => UUID.test(text);

export async function findExperimentByName(client: IcrlClient, name: string): Promise<ExperimentFieldsFragment | null> {
  const found = pages((after) =>
    client.query(ExperimentsDocument, { nameContains: name, includeArchived: true, first: 100, after }).then((r) => r.experiments),
  );
  for await (const batch of found) {
    const exact = batch.find((e) => e.name === name);
    if (exact) return exact;
  }
  return null;
}

/** An experiment by id, or by exact name when the text is not an id. */
export async function findExperiment(client: IcrlClient, idOrName: string): Promise<ExperimentFieldsFragment | null> {
  if (isId(idOrName)) return (await client.query(ExperimentDocument, { id: idOrName })).experiment ?? null;
  return findExperimentByName(client, idOrName);
}

export async function requireExperiment(client: IcrlClient, idOrName: string): Promise<ExperimentFieldsFragment> {
  const experiment = await findExperiment(client, idOrName);
  if (!experiment) throw notFound(`No experiment ${isId(idOrName) ? "with id" : "named"} ${JSON.stringify(idOrName)}.`);
  return experiment;
}

export type RunDetail = NonNullable<RunDetailQuery["run"]>;

export async function requireRun(client: IcrlClient, id: string): Promise<RunDetail> {
  if (!isId(id)) throw badInput(`${JSON.stringify(id)} is not a run id (expected a UUID; see \`icrl run list\`).`);
  const run = (await client.query(RunDetailDocument, { id })).run;
  if (!run) throw notFound(`No run with id ${id}.`);
  return run;
}

/** A dataset by id, or by exact name (archived ones included), with exit code 3 when there is none. */
export async function requireDataset(client: IcrlClient, idOrName: string): Promise<DatasetFieldsFragment> {
  const all = pages((after) => client.query(DatasetsDocument, { first: 100, after, includeArchived: true }).then((r) => r.datasets));
  for await (const batch of all) {
    const found = batch.find((d) => (isId(idOrName) ? d.id === idOrName : d.name === idOrName));
    if (found) return found;
  }
  throw notFound(`No dataset ${isId(idOrName) ? "with id" : "named"} ${JSON.stringify(idOrName)} (see \`icrl dataset list --all\`).`);
}
