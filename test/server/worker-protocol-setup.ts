// The setup the worker-protocol tests share (worker-protocol.test.ts, leases.test.ts): a server with
// a QA dataset, an experiment and a worker registration key, plus helpers to add workers and runs.
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll } from "vitest";
import {
  CreateApiKeyDocument,
  CreateExperimentDocument,
  CreateRunDocument,
  IcrlApiError,
  ImportDatasetDocument,
  RegisterWorkerDocument,
  type IcrlClient,
} from "../../client-sdk/src/index.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { writeQaJsonl } from "../support/fixtures.js";

export interface WorkerProtocolServer {
  /** The running test server; set once beforeAll has run. */
  readonly t: TestServer;
  /** The QA dataset (20 items) every run here trains on. */
  readonly datasetId: string;
  newWorker(name: string, capabilities?: Record<string, unknown>): Promise<IcrlClient>;
  /** Creates a run on the shared dataset and experiment; returns its id. */
  newRun(name: string, extra?: Record<string, unknown>): Promise<string>;
}

/** The error code a call fails with, or null when it succeeds. */
export async function codeOf(p: Promise<unknown>): Promise<string | null> {
  return p.then(
    () => null,
    (e) => (e instanceof IcrlApiError ? e.code : String(e)),
  );
}

/** Registers beforeAll/afterAll in the calling test file; call it at the file's top level. */
export function useWorkerProtocolServer(overrides: Record<string, unknown> = {}): WorkerProtocolServer {
  let t: TestServer | undefined;
  let datasetId: string;
  let experimentId: string;
  let registrationKey: string;
  const server = () => {
    if (!t) throw new Error("the worker-protocol test server is not started yet (use it inside tests, not at load time)");
    return t;
  };

  beforeAll(async () => {
    t = await startTestServer(overrides);
    const tmp = await mkdtemp(path.join(os.tmpdir(), "icrl-wp-"));
    await writeQaJsonl(path.join(tmp, "qa.jsonl"), 20);
    datasetId = (
      await t.admin.mutate(ImportDatasetDocument, { input: { name: "qa", kind: "QA", format: "JSONL", path: path.join(tmp, "qa.jsonl") } })
    ).importDataset.id;
    experimentId = (await t.admin.mutate(CreateExperimentDocument, { name: "wp" })).createExperiment.id;
    registrationKey = (await t.admin.mutate(CreateApiKeyDocument, { name: "workers", role: "WORKER" })).createApiKey.secret;
  });

  afterAll(async () => {
    await t?.close();
  });

  return {
    get t() {
      return server();
    },
    get datasetId() {
      server();
      return datasetId;
    },
    async newWorker(name, capabilities = { backend: "cpu", memoryMb: 16000 }) {
      const reg = await server().client(registrationKey).mutate(RegisterWorkerDocument, { name, capabilities });
      return server().client(reg.registerWorker.token);
    },
    async newRun(name, extra = {}) {
      const r = await server().admin.mutate(CreateRunDocument, {
        experimentId,
        name,
        config: { model: { path: "m.gguf" }, dataset: { id: datasetId }, ...extra },
      });
      return r.createRun.id;
    },
  };
}
