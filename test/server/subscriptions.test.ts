// Subscriptions: events reach subscribers of either of two server processes on one database, and a
// client resuming with `after` gets exactly what it missed.
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ClaimJobDocument,
  CreateApiKeyDocument,
  CreateExperimentDocument,
  CreateRunDocument,
  ImportDatasetDocument,
  LogMetricsDocument,
  MetricsAddedDocument,
  RegisterWorkerDocument,
  ReportRolloutsDocument,
  RolloutAddedDocument,
  RunUpdatedDocument,
  ReportRunProgressDocument,
  createClient,
  type IcrlClient,
} from "../../client-sdk/index.js";
import type { RunningServer } from "../../server/main.js";
import { ADMIN_KEY, startTestServer, type TestServer } from "../support/server.js";
import { makeRollout, writeQaJsonl } from "../support/fixtures.js";

let t: TestServer;
let replica: RunningServer;
let worker: IcrlClient;
let runId: string;
let jobId: string;

async function take<T>(it: AsyncGenerator<T>, n: number, timeoutMs = 15_000): Promise<T[]> {
  const out: T[] = [];
  const timer = setTimeout(() => void it.return(undefined as never), timeoutMs);
  for await (const v of it) {
    out.push(v);
    if (out.length >= n) break;
  }
  clearTimeout(timer);
  return out;
}

beforeAll(async () => {
  t = await startTestServer();
  replica = await t.startReplica();
  const tmp = await mkdtemp(path.join(os.tmpdir(), "icrl-sub-"));
  await writeQaJsonl(path.join(tmp, "qa.jsonl"), 5);
  const ds = await t.admin.mutate(ImportDatasetDocument, { input: { name: "qa", kind: "QA", format: "JSONL", path: path.join(tmp, "qa.jsonl") } });
  const exp = await t.admin.mutate(CreateExperimentDocument, { name: "subs" });
  runId = (await t.admin.mutate(CreateRunDocument, { experimentId: exp.createExperiment.id, name: "live", config: { model: { path: "m.gguf" }, dataset: { id: ds.importDataset.id } } }))
    .createRun.id;
  const reg = (await t.admin.mutate(CreateApiKeyDocument, { name: "reg", role: "WORKER" })).createApiKey.secret;
  const token = (await t.client(reg).mutate(RegisterWorkerDocument, { name: "w", capabilities: { backend: "cpu" } })).registerWorker.token;
  worker = t.client(token);
  jobId = (await worker.mutate(ClaimJobDocument, {})).claimJob!.job.id;
});

afterAll(async () => {
  await t?.close();
});

describe("rolloutAdded", () => {
  it("delivers writes made through one server to subscribers of the other", async () => {
    const onReplica = createClient({ url: replica.url, token: ADMIN_KEY });
    const onPrimary = t.client(ADMIN_KEY);
    const a = onReplica.subscribe(RolloutAddedDocument, { runId });
    const b = onPrimary.subscribe(RolloutAddedDocument, { runId, filter: { hasToolCall: true } });
    const gotA = take(a, 24);
    const gotB = take(b, 15);
    await new Promise((r) => setTimeout(r, 300)); // let both subscriptions register
    for (let step = 0; step < 3; step++) {
      await worker.mutate(ReportRolloutsDocument, { jobId, rollouts: Array.from({ length: 8 }, (_, i) => makeRollout(step, 0, i)) });
    }
    const eventsA = await gotA;
    expect(eventsA.map((e) => `${e.rolloutAdded.rollout.step}/${e.rolloutAdded.rollout.sampleIndex}`)).toEqual(
      Array.from({ length: 24 }, (_, i) => `${Math.floor(i / 8)}/${i % 8}`),
    );
    const cursors = eventsA.map((e) => BigInt(e.rolloutAdded.cursor));
    expect(cursors.every((c, i) => i === 0 || c > cursors[i - 1])).toBe(true);
    const eventsB = await gotB;
    expect(eventsB.every((e) => e.rolloutAdded.rollout.toolCallsValid > 0)).toBe(true);
    expect(eventsB).toHaveLength(15);
    await onReplica.close();
  });

  it("a client that reconnects with `after` receives what it missed exactly once", async () => {
    const c1 = t.client(ADMIN_KEY);
    const live = c1.subscribe(RolloutAddedDocument, { runId });
    const firstTwo = take(live, 4);
    await new Promise((r) => setTimeout(r, 200));
    await worker.mutate(ReportRolloutsDocument, { jobId, rollouts: Array.from({ length: 4 }, (_, i) => makeRollout(10, 0, i)) });
    const seen = await firstTwo;
    const last = seen[seen.length - 1].rolloutAdded.cursor;
    await c1.close();
    // While disconnected: more rollouts, including a retried (duplicate) batch.
    await worker.mutate(ReportRolloutsDocument, { jobId, rollouts: Array.from({ length: 8 }, (_, i) => makeRollout(11, 0, i)) });
    await worker.mutate(ReportRolloutsDocument, { jobId, rollouts: Array.from({ length: 8 }, (_, i) => makeRollout(11, 0, i)) });
    const c2 = createClient({ url: replica.url, token: ADMIN_KEY });
    const resumed = c2.subscribe(RolloutAddedDocument, { runId, after: last });
    const missedAndLive = take(resumed, 12);
    await new Promise((r) => setTimeout(r, 300));
    await worker.mutate(ReportRolloutsDocument, { jobId, rollouts: Array.from({ length: 4 }, (_, i) => makeRollout(12, 0, i)) });
    const got = await missedAndLive;
    expect(got.map((e) => `${e.rolloutAdded.rollout.step}/${e.rolloutAdded.rollout.sampleIndex}`)).toEqual([
      ...Array.from({ length: 8 }, (_, i) => `11/${i}`),
      ...Array.from({ length: 4 }, (_, i) => `12/${i}`),
    ]);
    await c2.close();
  });
});

describe("metricsAdded and runUpdated", () => {
  it("streams metric batches filtered by key and run progress", async () => {
    const c = t.client(ADMIN_KEY);
    const metrics = take(c.subscribe(MetricsAddedDocument, { runId, keys: ["reward/mean"] }), 2);
    const updates = take(c.subscribe(RunUpdatedDocument, { runId }), 2);
    await new Promise((r) => setTimeout(r, 300));
    await worker.mutate(LogMetricsDocument, { jobId, points: [{ key: "reward/mean", step: 1, value: 0.5 }, { key: "kl", step: 1, value: 0.01 }] });
    await worker.mutate(ReportRunProgressDocument, { jobId, progress: { step: 1, stage: 0, shots: 3 } });
    await worker.mutate(LogMetricsDocument, { jobId, points: [{ key: "reward/mean", step: 2, value: 0.75 }] });
    await worker.mutate(ReportRunProgressDocument, { jobId, progress: { step: 2 } });
    const m = await metrics;
    expect(m.flatMap((e) => e.metricsAdded.points.map((p) => [p.key, p.step, p.value]))).toEqual([
      ["reward/mean", 1, 0.5],
      ["reward/mean", 2, 0.75],
    ]);
    const u = await updates;
    expect(u.map((e) => e.runUpdated.run.step)).toEqual([1, 2]);
    expect(u[1].runUpdated.cursor).toBeGreaterThan(u[0].runUpdated.cursor);
  });
});
