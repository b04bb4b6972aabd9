// The demo's data on its server: the dataset and demonstration set imported once, and a worker key.
// A later start (or the replication driver, examples/icrl-replication.ts) finds them again by id or name.
import {
  type IcrlClient,
  IcrlApiError,
  ApiKeysDocument,
  CreateApiKeyDocument,
  CreateDemonstrationSetDocument,
  DatasetDocument,
  DatasetsDocument,
  DemonstrationSetDocument,
  DemonstrationSetsDocument,
  ImportDatasetDocument,
} from "../../client-sdk/src/index.js";
import { displayPrefix } from "../../server/index.js";
import type { DemoFiles } from "./demo-files.js";
import type { DemoState } from "./demo-state.js";

async function exists<T>(probe: () => Promise<T | null | undefined>): Promise<boolean> {
  try {
    return Boolean(await probe());
  } catch (err) {
    if (err instanceof IcrlApiError && (err.code === "NOT_FOUND" || err.code === "BAD_USER_INPUT")) return false;
    throw err;
  }
}

/** Creates by name, or finds what an earlier start created under that name (CONFLICT). */
async function createOrFind(create: () => Promise<string>, find: () => Promise<string | undefined>): Promise<string> {
  try {
    return await create();
  } catch (err) {
    if (!(err instanceof IcrlApiError && err.code === "CONFLICT")) throw err;
    const id = await find();
    if (!id) throw err;
    return id;
  }
}

/**
 * The dataset, demonstration set and worker key on the server: reused when still there, created once.
 * `name` names the dataset and the demonstration set (another task's data lives beside the demo's).
 */
export async function ensureServerData(
  admin: IcrlClient,
  files: Pick<DemoFiles, "dataset" | "demonstrations">,
  state: DemoState,
  name = "lookup-demo",
): Promise<Required<Pick<DemoState, "datasetId" | "demonstrationSetId" | "workerKey">>> {
  if (!state.datasetId || !(await exists(async () => (await admin.query(DatasetDocument, { id: state.datasetId!, first: 1 })).dataset))) {
    state.datasetId = await createOrFind(
      async () => (await admin.mutate(ImportDatasetDocument, { input: { name, kind: "QA", format: "JSONL", path: files.dataset } })).importDataset.id,
      async () => (await admin.query(DatasetsDocument, { first: 500, includeArchived: true })).datasets.nodes.find((d) => d.name === name)?.id,
    );
  }
  if (
    !state.demonstrationSetId ||
    !(await exists(async () => (await admin.query(DemonstrationSetDocument, { id: state.demonstrationSetId! })).demonstrationSet))
  ) {
    state.demonstrationSetId = await createOrFind(
      async () =>
        (await admin.mutate(CreateDemonstrationSetDocument, { input: { name, task: "QA", items: files.demonstrations.items } }))
          .createDemonstrationSet.id,
      async () => (await admin.query(DemonstrationSetsDocument, { includeArchived: true })).demonstrationSets.find((d) => d.name === name)?.id,
    );
  }
  const keys = (await admin.query(ApiKeysDocument)).apiKeys;
  if (!state.workerKey || !keys.some((k) => k.role === "WORKER" && !k.revokedAt && k.prefix === displayPrefix(state.workerKey!))) {
    state.workerKey = (await admin.mutate(CreateApiKeyDocument, { name: "demo worker", role: "WORKER" })).createApiKey.secret;
  }
  return { datasetId: state.datasetId, demonstrationSetId: state.demonstrationSetId, workerKey: state.workerKey };
}
