// A run on a small QA dataset whose TRAIN job a freshly registered worker has claimed: what tests of
// the worker protocol under faults (uploads, leases) and of live streams start from. The run never
// trains (its model path is a placeholder); the claim is what they need.
import path from "node:path";
import {
  ClaimJobDocument,
  CreateApiKeyDocument,
  CreateExperimentDocument,
  CreateRunDocument,
  ImportDatasetDocument,
  RegisterWorkerDocument,
} from "../../client-sdk/src/index.js";
import { writeQaJsonl } from "./fixtures.js";
import type { TestServer } from "./server.js";

export interface ClaimedJob {
  runId: string;
  jobId: string;
  /** The worker's own token. */
  workerToken: string;
  leaseExpiresAt: string | null;
}

/** `name` names the dataset, experiment and worker; the dataset file goes in `dir`. */
export async function claimedTrainJob(t: Pick<TestServer, "admin" | "client">, dir: string, name: string): Promise<ClaimedJob> {
  const file = path.join(dir, `${name}.jsonl`);
  await writeQaJsonl(file, 3);
  const ds = await t.admin.mutate(ImportDatasetDocument, { input: { name, kind: "QA", format: "JSONL", path: file } });
  const exp = await t.admin.mutate(CreateExperimentDocument, { name });
  const runId = (
    await t.admin.mutate(CreateRunDocument, {
      experimentId: exp.createExperiment.id,
      name: "r",
      config: { model: { path: "m.gguf" }, dataset: { id: ds.importDataset.id } },
    })
  ).createRun.id;
  const reg = (await t.admin.mutate(CreateApiKeyDocument, { name, role: "WORKER" })).createApiKey.secret;
  const workerToken = (await t.client(reg).mutate(RegisterWorkerDocument, { name, capabilities: {} })).registerWorker.token;
  const claim = (await t.client(workerToken).mutate(ClaimJobDocument, {})).claimJob;
  if (!claim || claim.job.run?.id !== runId) throw new Error(`the worker ${name} did not claim the new run's job`);
  return { runId, jobId: claim.job.id, workerToken, leaseExpiresAt: claim.job.leaseExpiresAt };
}
