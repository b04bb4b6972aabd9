// Lease expiry with a short lease: a worker that stops heartbeating loses its job to another worker.
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ClaimJobDocument,
  CompleteJobDocument,
  CreateApiKeyDocument,
  CreateExperimentDocument,
  CreateRunDocument,
  HeartbeatDocument,
  IcrlApiError,
  ImportDatasetDocument,
  RegisterWorkerDocument,
  ReportRolloutsDocument,
  type IcrlClient,
} from "../../client-sdk/src/index.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { makeRollout, writeQaJsonl } from "../support/fixtures.js";

let t: TestServer;
let datasetId: string;
let experimentId: string;
let registrationKey: string;

async function codeOf(p: Promise<unknown>): Promise<string | null> {
  return p.then(
    () => null,
    (e) => (e instanceof IcrlApiError ? e.code : String(e)),
  );
}

async function newWorker(name: string, capabilities: Record<string, unknown> = { backend: "cpu", memoryMb: 16000 }): Promise<IcrlClient> {
  const reg = await t.client(registrationKey).mutate(RegisterWorkerDocument, { name, capabilities });
  return t.client(reg.registerWorker.token);
}

async function newRun(name: string, extra: Record<string, unknown> = {}) {
  const r = await t.admin.mutate(CreateRunDocument, {
    experimentId,
    name,
    config: { model: { path: "m.gguf" }, dataset: { id: datasetId }, ...extra },
  });
  return r.createRun.id;
}

beforeAll(async () => {
  t = await startTestServer({ leaseSeconds: 2, reaperIntervalMs: 300 });
  const tmp = await mkdtemp(path.join(os.tmpdir(), "icrl-wp-"));
  await writeQaJsonl(path.join(tmp, "qa.jsonl"), 20);
  datasetId = (await t.admin.mutate(ImportDatasetDocument, { input: { name: "qa", kind: "QA", format: "JSONL", path: path.join(tmp, "qa.jsonl") } }))
    .importDataset.id;
  experimentId = (await t.admin.mutate(CreateExperimentDocument, { name: "wp" })).createExperiment.id;
  registrationKey = (await t.admin.mutate(CreateApiKeyDocument, { name: "workers", role: "WORKER" })).createApiKey.secret;
});

afterAll(async () => {
  await t?.close();
});

describe("leases", () => {
  it("an expired lease requeues the job and a second worker resumes it", async () => {
    const runId = await newRun("lease");
    const a = await newWorker("a");
    const b = await newWorker("b");
    const claim = (await a.mutate(ClaimJobDocument, {})).claimJob!;
    expect(claim.job.run?.id).toBe(runId);
    // a keeps the lease alive for a while...
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 700));
      const hb = await a.mutate(HeartbeatDocument, { jobId: claim.job.id });
      expect(hb.heartbeat.cancelled).toBe(false);
    }
    expect((await b.mutate(ClaimJobDocument, {})).claimJob).toBeNull();
    // ...then dies: the reaper requeues the job, b gets it with attempts = 1.
    let second = null;
    for (let i = 0; i < 40 && !second; i++) {
      await new Promise((r) => setTimeout(r, 200));
      second = (await b.mutate(ClaimJobDocument, {})).claimJob;
    }
    expect(second?.job.id).toBe(claim.job.id);
    expect(second?.job.attempts).toBe(1);
    // The dead worker can no longer act on the job.
    expect(await codeOf(a.mutate(HeartbeatDocument, { jobId: claim.job.id }))).toBe("FORBIDDEN");
    expect(await codeOf(a.mutate(ReportRolloutsDocument, { jobId: claim.job.id, rollouts: [makeRollout(0, 0, 0)] }))).toBe("FORBIDDEN");
    await b.mutate(CompleteJobDocument, { jobId: claim.job.id });
  });
});
