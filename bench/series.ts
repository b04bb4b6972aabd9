// Chart queries on a big run: 1,000,000 metric points over 10 keys (100,000 steps each), then
// metricSeries for all 10 keys at maxPoints 1000 through GraphQL (HTTP, admin key), 200 times in a
// row (or for 60 s, whichever ends first), after 10 warm-up queries. By default it asks for the
// columnar form the dashboard's charts use (MetricSeriesColumns); BENCH_SERIES_FORM=points asks for
// one object per point (MetricSeries, the older form) instead, for comparison.
//
// Loading goes through the server's own ingestion SQL (insertMetrics, the statement behind
// logMetrics) straight on the pool in big batches: the same points and rollups as if a worker had
// logged them, without a million-point trip through HTTP.
import "./support/node-env.js"; // first: before anything loads graphql
import { MetricSeriesColumnsDocument, MetricSeriesDocument } from "../client-sdk/src/index.js";
import { insertMetrics, type MetricRow } from "../server/index.js";
import { startControlPlane } from "./support/control-plane.js";
import { cpuMeter } from "./support/cpu.js";
import { percentile, progress, round } from "./support/stats.js";

const KEYS = Array.from(
  { length: 10 },
  (_, i) => `metric/${["reward", "accuracy", "format", "kl", "entropy", "loss", "grad_norm", "lr", "tool_calls", "response_len"][i]}`,
);
const STEPS = 100_000;
const LOAD_BATCH = 100_000;
const QUERIES = 200;
const QUERY_SECONDS = 60; // at most, so a slow machine gives fewer samples rather than a longer run
const WARMUP = 10;
const MAX_POINTS = 1000;
const FORM = process.env.BENCH_SERIES_FORM === "points" ? "points" : "columns";

interface Answer {
  key: string;
  totalPoints: number;
  steps: number[];
  mins: number[];
  maxs: number[];
}

/** A noisy curve per key with rare spikes, so min/max buckets differ from the mean. */
function value(key: number, step: number): number {
  const noise = Math.sin(step * 12.9898 + key * 78.233) * 43758.5453;
  const base = Math.log1p(step) * (key + 1) + (noise - Math.floor(noise));
  return step % 9973 === key ? base * 100 : base;
}

export default async function series(): Promise<Record<string, number | string>> {
  const cp = await startControlPlane();
  try {
    const { runId } = await cp.trainJob("series");
    const pool = cp.t.server.services.pool;

    const loadStarted = performance.now();
    // Step-major order, as a training loop logs them: all keys of a step, then the next step. Two
    // batches in flight, so building and sending one overlaps Postgres inserting the other (the
    // run-row lock still commits them one after the other, in order).
    const batchRows = (first: number): MetricRow[] => {
      const rows: MetricRow[] = [];
      for (let i = first; i < Math.min(first + LOAD_BATCH, STEPS * KEYS.length); i++) {
        const step = Math.floor(i / KEYS.length);
        const k = i % KEYS.length;
        rows.push({ key: KEYS[k], step, value: value(k, step) });
      }
      return rows;
    };
    let previous: Promise<unknown> = Promise.resolve();
    for (let first = 0; first < STEPS * KEYS.length; first += LOAD_BATCH) {
      const rows = batchRows(first);
      const inserted = insertMetrics(pool, runId, rows).then((res) => {
        if (res.inserted !== rows.length) throw new Error(`expected ${rows.length} new points, got ${res.inserted}`);
      });
      await previous;
      previous = inserted;
    }
    await previous;
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    const counts = await pool.query("SELECT count(*)::int AS n FROM metric_points WHERE run_id = $1", [runId]);
    progress(`loaded ${counts.rows[0].n} points in ${round(loadSeconds, 1)} s`);
    // Measure the steady state, not autovacuum's first pass over a million fresh rows.
    await pool.query("VACUUM ANALYZE metric_points, metric_rollups");

    const vars = { runId, keys: KEYS, maxPoints: MAX_POINTS };
    const ask = () => (FORM === "points" ? cp.t.admin.query(MetricSeriesDocument, vars) : cp.t.admin.query(MetricSeriesColumnsDocument, vars));
    // The answer must be right before its speed matters: every point counted once, spikes kept.
    const check = await ask();
    const answers: Answer[] =
      "columns" in (check.metricSeries[0] ?? {})
        ? (await cp.t.admin.query(MetricSeriesColumnsDocument, vars)).metricSeries.map((s) => ({
            key: s.key,
            totalPoints: s.totalPoints,
            ...s.columns,
          }))
        : (await cp.t.admin.query(MetricSeriesDocument, vars)).metricSeries.map((s) => ({
            key: s.key,
            totalPoints: s.totalPoints,
            steps: s.points.map((p) => p.step),
            mins: s.points.map((p) => p.min),
            maxs: s.points.map((p) => p.max),
          }));
    const truth = await pool.query(
      "SELECT key, count(*)::int AS n, min(value) AS mn, max(value) AS mx, min(step) AS first FROM metric_points WHERE run_id = $1 GROUP BY key",
      [runId],
    );
    for (const s of answers) {
      const t = truth.rows.find((r) => r.key === s.key);
      const mn = Math.min(...s.mins);
      const mx = Math.max(...s.maxs);
      if (!t || s.totalPoints !== t.n || s.steps.length > MAX_POINTS || mn !== t.mn || mx !== t.mx || s.steps[0] !== t.first) {
        throw new Error(
          `metricSeries disagrees with metric_points for ${s.key}: ${JSON.stringify({ total: s.totalPoints, points: s.steps.length, mn, mx, truth: t })}`,
        );
      }
    }
    const points = answers.reduce((n, s) => n + s.steps.length, 0);
    const responseBytes = Buffer.byteLength(JSON.stringify({ data: check }));

    for (let i = 0; i < WARMUP; i++) await ask();
    const meter = await cpuMeter(pool);
    const m = meter?.();
    const took: number[] = [];
    const started = performance.now();
    while (took.length < QUERIES && performance.now() - started < QUERY_SECONDS * 1000) {
      const t0 = performance.now();
      await ask();
      took.push(performance.now() - t0);
    }
    const cpu = m?.read();
    return {
      points_loaded: counts.rows[0].n,
      keys: KEYS.length,
      form: FORM,
      node_env: process.env.NODE_ENV ?? "",
      load_s: round(loadSeconds, 1),
      load_points_per_s: Math.round(counts.rows[0].n / loadSeconds),
      queries: took.length,
      max_points: MAX_POINTS,
      points_returned: points,
      response_kb: Math.round(responseBytes / 1024),
      p50_ms: round(percentile(took, 50), 1),
      p99_ms: round(percentile(took, 99), 1),
      max_ms: round(percentile(took, 100), 1),
      target_p99_ms: 100,
      // Per query, both in this process (server and client) and in Postgres; and the time the main
      // thread spent ready but waiting for a CPU, i.e. other load on the machine.
      node_cpu_ms_per_query: cpu ? round((cpu.node_s * 1000) / took.length, 2) : "n/a",
      postgres_cpu_ms_per_query: cpu ? round((cpu.postgres_s * 1000) / took.length, 2) : "n/a",
      waited_for_cpu_s: cpu ? round(cpu.node_waited_s, 2) : "n/a",
    };
  } finally {
    await cp.close();
  }
}
