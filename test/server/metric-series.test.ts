// metricSeries keeps every bucket's min and max, so a single spike among many points stays visible.
import { mkdtemp, readFile } from "node:fs/promises";
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
  MetricSeriesColumnsDocument,
  MetricSeriesDocument,
  RegisterWorkerDocument,
  TruncateRunDocument,
  MetricPointsDocument,
} from "../../client-sdk/src/index.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { writeQaJsonl } from "../support/fixtures.js";

let t: TestServer;
let runId: string;
const N = 20_000;
const SPIKE_STEP = 12_345;
const valueAt = (step: number) => (step === SPIKE_STEP ? 1000 : step === 777 ? -50 : Math.sin(step / 100));

beforeAll(async () => {
  t = await startTestServer();
  const tmp = await mkdtemp(path.join(os.tmpdir(), "icrl-series-"));
  await writeQaJsonl(path.join(tmp, "qa.jsonl"), 3);
  const ds = await t.admin.mutate(ImportDatasetDocument, { input: { name: "qa", kind: "QA", format: "JSONL", path: path.join(tmp, "qa.jsonl") } });
  const exp = await t.admin.mutate(CreateExperimentDocument, { name: "series" });
  runId = (
    await t.admin.mutate(CreateRunDocument, {
      experimentId: exp.createExperiment.id,
      name: "r",
      config: { model: { path: "m.gguf" }, dataset: { id: ds.importDataset.id } },
    })
  ).createRun.id;
  const reg = (await t.admin.mutate(CreateApiKeyDocument, { name: "reg", role: "WORKER" })).createApiKey.secret;
  const w = t.client((await t.client(reg).mutate(RegisterWorkerDocument, { name: "w", capabilities: {} })).registerWorker.token);
  const jobId = (await w.mutate(ClaimJobDocument, {})).claimJob!.job.id;
  for (let start = 0; start < N; start += 1000) {
    const points = Array.from({ length: 1000 }, (_, i) => {
      const step = start + i;
      return { key: "loss", step, value: valueAt(step) };
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

  it("columns hold the same points as points, every bucket exact, for every rollup level and window", async () => {
    const windows: [number | null, number | null][] = [
      [null, null],
      [1001, 13_000],
      [5, 19_990],
      [-100, 100_000],
      [300, 333],
    ];
    for (const maxPoints of [2, 7, 50, 200, 1000, 3000, 10_000]) {
      for (const [minStep, maxStep] of windows) {
        const vars = { runId, keys: ["loss", "missing", "loss"], maxPoints, minStep, maxStep };
        const [cols, pts] = await Promise.all([t.admin.query(MetricSeriesColumnsDocument, vars), t.admin.query(MetricSeriesDocument, vars)]);
        expect(cols.metricSeries.map((s) => s.key)).toEqual(["loss", "missing", "loss"]);
        for (const [i, s] of cols.metricSeries.entries()) {
          const c = s.columns;
          const asPoints = c.steps.map((step, j) => ({
            step,
            value: c.values[j],
            min: c.mins[j],
            max: c.maxs[j],
            count: c.counts[j],
            firstStep: step,
            lastStep: c.lastSteps[j],
          }));
          // Means are sums of floats, which Postgres may add up in another order from one query to the next.
          const p = pts.metricSeries[i].points;
          expect(asPoints.map((q) => ({ ...q, value: 0 }))).toEqual(p.map((q) => ({ ...q, value: 0 })));
          for (const [j, q] of asPoints.entries()) expect(q.value).toBeCloseTo(p[j].value, 12);
          expect(s.totalPoints).toBe(pts.metricSeries[i].totalPoints);
        }
        const s = cols.metricSeries[0];
        const lo = Math.max(0, minStep ?? 0);
        const hi = Math.min(N - 1, maxStep ?? N - 1);
        const where = JSON.stringify({ maxPoints, minStep, maxStep });
        expect(s.columns.steps.length, where).toBeLessThanOrEqual(maxPoints);
        expect(s.totalPoints, where).toBe(hi - lo + 1);
        // Steps are dense, so the buckets must tile [lo, hi] exactly, each with its exact min and max.
        let next = lo;
        for (let j = 0; j < s.columns.steps.length; j++) {
          expect(s.columns.steps[j], where).toBe(next);
          const values = Array.from({ length: s.columns.lastSteps[j] - next + 1 }, (_, k) => valueAt(next + k));
          expect(s.columns.counts[j], where).toBe(values.length);
          expect(s.columns.mins[j], where).toBe(Math.min(...values));
          expect(s.columns.maxs[j], where).toBe(Math.max(...values));
          expect(s.columns.values[j], where).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 9);
          next = s.columns.lastSteps[j] + 1;
        }
        expect(next - 1, where).toBe(hi);
      }
    }
  });

  it("the rollup-levels migration rebuilds levels 64 and 1024 exactly as ingestion keeps them", async () => {
    const pool = t.server.services.pool;
    const levels = () =>
      pool.query(
        `SELECT key, width, bucket, min, max, sum, count, first, last, first_step, last_step FROM metric_rollups
         WHERE run_id = $1 AND width IN (64, 1024) ORDER BY key, width, bucket`,
        [runId],
      );
    const kept = (await levels()).rows;
    expect(kept.length).toBe(Math.ceil(N / 64) + Math.ceil(N / 1024));
    await pool.query("DELETE FROM metric_rollups WHERE run_id = $1 AND width IN (64, 1024)", [runId]);
    const sql = await readFile(new URL("../../prisma/migrations/20261125160000_metric_rollup_levels/migration.sql", import.meta.url), "utf8");
    await pool.query(sql);
    const rebuilt = (await levels()).rows;
    // Sums may differ in the last bits (added in another order).
    const approx = (rows: typeof kept) => rows.map((r) => ({ ...r, sum: Math.round(r.sum * 1e6) }));
    expect(approx(rebuilt)).toEqual(approx(kept));
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
