// A report stream that fails for good (the server answering every rollout batch with an internal
// error past the retry budget, as when its database is down) fails that attempt only: the job's next
// attempt and a later job on the same worker start with streams of their own, and everything arrives
// exactly once. A real worker talks to a real server through a proxy that plays the failing server.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateApiKeyDocument,
  CreateExperimentDocument,
  CreateRunDocument,
  MAX_SERVER_ERROR_RETRIES,
  RunDocument,
} from "../../client-sdk/src/index.js";
import { Worker } from "../../worker/runtime/worker.js";
import { createLogger } from "../../server/logger.js";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { allMetricPoints, allRollouts, lookupRunConfig, rolloutKey, runJobs, setupLookup, type LookupSetup } from "./support.js";

let t: TestServer;
let dir: string;
let setup: LookupSetup;
let proxy: FaultProxy;

beforeAll(async () => {
  t = await startTestServer();
  dir = await mkdtemp(path.join(os.tmpdir(), "icrl-stream-failure-"));
  await chmod(dir, 0o755);
  setup = await setupLookup(t, dir);
});

afterAll(async () => {
  await proxy?.close();
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

const config = () =>
  lookupRunConfig(setup, { curriculum: { stages: [{ shots: 0, steps: 2 }] }, validation: { every: 2, size: 1 }, checkpointEvery: 2 });

async function newRun(name: string): Promise<string> {
  const exp = await t.admin.mutate(CreateExperimentDocument, { name });
  return (await t.admin.mutate(CreateRunDocument, { experimentId: exp.createExperiment.id, name, config: config() })).createRun.id;
}

async function expectDeliveredOnce(runId: string) {
  const rollouts = await allRollouts(t.admin, runId);
  expect(rollouts.map(rolloutKey).sort()).toEqual(
    [1, 2].flatMap((step) => [0, 1].flatMap((g) => [0, 1, 2, 3].map((s) => `${step}/${g}/${s}`))).sort(),
  );
  const points = await allMetricPoints(t.admin, runId);
  const keys = points.map((p) => `${p.key}@${p.step}`);
  expect(new Set(keys).size).toBe(keys.length);
  expect(points.filter((p) => p.key === "reward/mean").map((p) => p.step)).toEqual([1, 2]);
}

describe("a failed report stream", () => {
  it("fails one attempt; the next attempt and the next job on the same worker deliver everything once", { timeout: 600_000 }, async () => {
    // The first rollout batch is answered with an internal error until the outbox gives it up.
    proxy = await startFaultProxy(t.server.url, (req) =>
      req.body.includes("reportRollouts") && proxy.faults <= MAX_SERVER_ERROR_RETRIES
        ? { status: 500, body: { errors: [{ message: "Can't reach database server", extensions: { code: "INTERNAL_SERVER_ERROR" } }] } }
        : null,
    );
    const first = await newRun("stream-fails");
    const second = await newRun("after-the-failure");
    const key = (await t.admin.mutate(CreateApiKeyDocument, { name: "w-stream", role: "WORKER" })).createApiKey.secret;
    const worker = new Worker({
      serverUrl: proxy.url,
      token: key,
      name: "stream-failure",
      threads: 1,
      gpu: false,
      dataDir: path.join(dir, "worker"),
      allowPaths: [dir],
      pollMs: 100,
      maxJobs: 3,
      outbox: { retry: { initialMs: 5, maxMs: 20 } },
      logger: createLogger({ level: process.env.ICRL_TEST_LOG ?? "silent" }),
    });
    await worker.run();

    expect(proxy.faults).toBe(MAX_SERVER_ERROR_RETRIES + 1);
    const firstJobs = await runJobs(t.admin, first);
    expect(firstJobs.map((j) => [j.status, j.attempts])).toEqual([["SUCCEEDED", 1]]); // one failed attempt, then one that succeeded
    for (const runId of [first, second]) {
      const run = (await t.admin.query(RunDocument, { id: runId })).run!;
      expect({ status: run.status, error: run.error, step: run.step }).toEqual({ status: "SUCCEEDED", error: null, step: 2 });
      await expectDeliveredOnce(runId);
    }
  });
});
