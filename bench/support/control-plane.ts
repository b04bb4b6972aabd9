// A real server on a fresh throwaway database (the same one the tests use), with an imported dataset,
// an experiment and a worker registration key, plus a helper that gives each benchmark client its own
// run and the TRAIN job leased on it, exactly as a worker would get them.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  ClaimJobDocument,
  CreateApiKeyDocument,
  CreateExperimentDocument,
  CreateRunDocument,
  ImportDatasetDocument,
  RegisterWorkerDocument,
  type IcrlClient,
} from "../../client-sdk/src/index.js";
import { startTestServer, type TestServer } from "../../test/support/server.js";
import { writeQaJsonl } from "../../test/support/fixtures.js";

export interface TrainJob {
  runId: string;
  jobId: string;
  /** The worker's own token, and an SDK client using it. */
  token: string;
  worker: IcrlClient;
}

export interface ControlPlane {
  t: TestServer;
  /** Creates a run, registers a worker and lets it claim the run's TRAIN job. */
  trainJob(name: string): Promise<TrainJob>;
  close(): Promise<void>;
}

export async function startControlPlane(overrides: Record<string, unknown> = {}): Promise<ControlPlane> {
  // Long leases: the load generators report without heartbeating.
  const t = await startTestServer({ leaseSeconds: 3600, ...overrides });
  const tmp = await mkdtemp(path.join(os.tmpdir(), "icrl-bench-"));
  try {
    await writeQaJsonl(path.join(tmp, "qa.jsonl"), 10);
    const ds = await t.admin.mutate(ImportDatasetDocument, {
      input: { name: "bench-qa", kind: "QA", format: "JSONL", path: path.join(tmp, "qa.jsonl") },
    });
    const experimentId = (await t.admin.mutate(CreateExperimentDocument, { name: "bench" })).createExperiment.id;
    const registrationKey = (await t.admin.mutate(CreateApiKeyDocument, { name: "bench workers", role: "WORKER" })).createApiKey.secret;
    const registrar = t.client(registrationKey);
    // Runs are created and claimed one at a time, so each worker's claim can only find its own run.
    let queue: Promise<unknown> = Promise.resolve();
    const trainJob = (name: string): Promise<TrainJob> => {
      const next = queue.then(async () => {
        const config = { model: { path: "bench.gguf" }, dataset: { id: ds.importDataset.id } };
        const runId = (await t.admin.mutate(CreateRunDocument, { experimentId, name, config })).createRun.id;
        const token = (await registrar.mutate(RegisterWorkerDocument, { name: `bench-${name}`, capabilities: { backend: "cpu" } })).registerWorker
          .token;
        const worker = t.client(token);
        const claim = (await worker.mutate(ClaimJobDocument, {})).claimJob;
        if (!claim || claim.job.run?.id !== runId) throw new Error(`worker for ${name} did not get the job of run ${runId}`);
        return { runId, jobId: claim.job.id, token, worker };
      });
      queue = next.catch(() => undefined);
      return next;
    };
    return {
      t,
      trainJob,
      close: async () => {
        await t.close();
        await rm(tmp, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await t.close();
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}
