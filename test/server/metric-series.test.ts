// metricSeries keeps every bucket's min and max, so a single spike among many points stays visible.
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
  MetricSeriesDocument,
  RegisterWorkerDocument,
  TruncateRunDocument,
  MetricPointsDocument,
} from "../../client-sdk/index.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { writeQaJsonl } from "../support/fixtures.js";

let t: TestServer;
let runId: string;
const N = 20_000;
const SPIKE_STEP = 12_345;

beforeAll(async () => {
  t = await startTestServer();
  const tmp = await mkdtemp(path.join(os.tmpdir(), "icrl-series-"));
  await writeQaJsonl(path.join(tmp, "qa.jsonl"), 3);
  const ds = await t.admin.mutate(ImportDatasetDocument, { input: { name: "qa", kind: "QA", format: "JSONL", path: path.join(tmp, "qa.jsonl") } });
  const exp = await t.admin.mutate(CreateExperimentDocument, { name: "series" });
  runId = (await t.admin.mutate(CreateRunDocument, { experimentId: exp.createExperiment.id, name: "r", config: { model: { path: "m.gguf" }, dataset: { id: ds.importDataset.id } } })).createRun.id;
  const reg = (await t.admin.mutate(CreateApiKeyDocument, { name: "reg", role: "WORKER" })).createApiKey.secret;
  const w = t.client((await t.client(reg).mutate(RegisterWorkerDocument, { name: "w", capabilities: {} })).registerWorker.token);
  const jobId = (await w.mutate(ClaimJobDocument, {})).claimJob!.job.id;
  for (let start = 0; start < N; start += 1000) {
    const points = Array.from({ length: 1000 }, (_, i) => {
      const step = start + i;
      return { key: "loss", step, value: step === SPIKE_STEP ? 1000 : step === 777 ? -50 : Math.sin(step / 100) };
    });
    await w.mutate(LogMetricsDocument, { jobId, points });
  }
  (globalThis as Record<string, unknown>).__w = { w, jobId };
}, 120_000);

afterAll(async () => {
  await t?.close();
});

describe("metricSeries", () => {
  it("downsamples to maxPoints keeping spikes in min/max", async () => {
    const res = await t.admin.query(MetricSeriesDocument, { runId, keys: ["loss", "missing"], maxPoints: 200 });
    const [loss, missing] = res.metricSeries;
    expect(missing.points).toEqual([]);
    expect(loss.downsampled).toBe(true);
    expect(loss.points.length).toBeLessThanOrEqual(200);
    expect(loss.points.length).toBeGreaterThan(100);
    expect(loss.totalPoints).toBe(N);
    expect(Math.max(...loss.points.map((p) => p.max))).toBe(1000);
    expect(Math.min(...loss.points.map((p) => p.min))).toBe(-50);
    const spike = loss.points.find((p) => p.max === 1000)!;
    expect(spike.firstStep).toBeLessThanOrEqual(SPIKE_STEP);
    expect(spike.lastStep).toBeGreaterThanOrEqual(SPIKE_STEP);
    expect(loss.points.reduce((n, p) => n + p.count, 0)).toBe(N);
  });

  it("honours a step window exactly, including partial edge buckets", async () => {
    const res = await t.admin.query(MetricSeriesDocument, { runId, keys: ["loss"], maxPoints: 50, minStep: 1001, maxStep: 13_000 });
    const s = res.metricSeries[0];
    expect(s.points[0].firstStep).toBe(1001);
    expect(s.points[s.points.length - 1].lastStep).toBe(13_000);
    expect(s.points.reduce((n, p) => n + p.count, 0)).toBe(12_000);
    expect(Math.max(...s.points.map((p) => p.max))).toBe(1000);
    const raw = await t.admin.query(MetricSeriesDocument, { runId, keys: ["loss"], maxPoints: 1000, minStep: 10, maxStep: 19 });
    expect(raw.metricSeries[0].downsampled).toBe(false);
    expect(raw.metricSeries[0].points.map((p) => p.step)).toEqual(Array.from({ length: 10 }, (_, i) => 10 + i));
  });

  it("truncateRun drops points after a step and the rollups follow", async () => {
    const { w, jobId } = (globalThis as Record<string, any>).__w;
    await w.mutate(TruncateRunDocument, { jobId, afterStep: 12_000 });
    const s = (await t.admin.query(MetricSeriesDocument, { runId, keys: ["loss"], maxPoints: 100 })).metricSeries[0];
    expect(s.totalPoints).toBe(12_001);
    expect(Math.max(...s.points.map((p) => p.max))).toBeLessThan(1000);
    expect(s.points[s.points.length - 1].lastStep).toBe(12_000);
    const raw = await t.admin.query(MetricPointsDocument, { runId, first: 10, after: null });
    expect(raw.metricPoints.nodes[0].step).toBe(0);
  });
});
