// Chart series with min/max-preserving downsampling. Small series come back raw. Large ones are
// assembled from the pre-aggregated rollups (server/ingest/metrics.ts keeps them current), so the
// cost depends on maxPoints, not on how many points were logged.
import type pg from "pg";
import { ROLLUP_WIDTHS } from "./rollup.js";

export interface SeriesPoint {
  step: number;
  value: number;
  min: number;
  max: number;
  count: number;
  firstStep: number;
  lastStep: number;
}

export interface Series {
  key: string;
  downsampled: boolean;
  totalPoints: number;
  points: SeriesPoint[];
}

interface Bucket {
  min: number;
  max: number;
  sum: number;
  count: number;
  firstStep: number;
  lastStep: number;
}

export async function metricSeries(
  pool: pg.Pool,
  runId: string,
  keys: string[],
  options: { maxPoints: number; minStep?: number | null; maxStep?: number | null },
): Promise<Series[]> {
  const maxPoints = Math.max(2, options.maxPoints);
  const lo = options.minStep ?? -2147483648;
  const hi = options.maxStep ?? 2147483647;
  const coarsest = ROLLUP_WIDTHS[ROLLUP_WIDTHS.length - 1];
  // Extent and size of each key in range, from the coarsest rollup (cheap); exact for whole buckets.
  // One index range per key (a plain `key = ANY(...)` made Postgres walk the run's whole index),
  // with the bucket bounds as integers so they are index conditions too.
  const extent = await pool.query(
    `SELECT k.key, e.n, e.lo, e.hi
     FROM unnest($2::text[]) AS k(key)
     CROSS JOIN LATERAL (
       SELECT sum(count)::int AS n, min(first_step) AS lo, max(last_step) AS hi FROM metric_rollups r
       WHERE r.run_id = $1 AND r.key = k.key AND r.width = $3 AND r.bucket BETWEEN $4 AND $5
     ) e
     WHERE e.n IS NOT NULL`,
    [runId, keys, coarsest, Math.floor(lo / coarsest), Math.floor(hi / coarsest)],
  );
  const byKey = new Map(extent.rows.map((r) => [r.key as string, r]));
  return Promise.all(
    keys.map(async (key): Promise<Series> => {
      const e = byKey.get(key);
      if (!e) return { key, downsampled: false, totalPoints: 0, points: [] };
      const first = Math.max(lo, e.lo as number);
      const last = Math.min(hi, e.hi as number);
      // Steps are unique per key, so a window no wider than maxPoints can never need downsampling.
      if ((e.n as number) <= maxPoints || last - first + 1 <= maxPoints) {
        const raw = await rawPoints(pool, runId, key, first, last);
        if (raw.length <= maxPoints) return { key, downsampled: false, totalPoints: raw.length, points: raw };
      }
      return downsample(pool, runId, key, first, last, maxPoints);
    }),
  );
}

async function rawPoints(pool: pg.Pool, runId: string, key: string, lo: number, hi: number): Promise<SeriesPoint[]> {
  const res = await pool.query(
    `SELECT step, value FROM metric_points WHERE run_id = $1 AND key = $2 AND step BETWEEN $3 AND $4 ORDER BY step`,
    [runId, key, lo, hi],
  );
  return res.rows.map((r) => ({ step: r.step, value: r.value, min: r.value, max: r.value, count: 1, firstStep: r.step, lastStep: r.step }));
}

async function downsample(pool: pg.Pool, runId: string, key: string, lo: number, hi: number, maxPoints: number): Promise<Series> {
  const span = hi - lo + 1;
  // Output buckets are aligned multiples of `outWidth`, itself a multiple of the rollup level used,
  // so every rollup bucket lands wholly inside one output bucket and min/max stay exact.
  let outWidth = Math.max(1, Math.ceil(span / (maxPoints - 1)));
  const level = [...ROLLUP_WIDTHS].reverse().find((w) => w <= outWidth) ?? 1;
  outWidth = Math.ceil(outWidth / level) * level;
  const out = new Map<number, Bucket>();
  const add = (b: Bucket) => {
    const k = Math.floor(b.firstStep / outWidth);
    const cur = out.get(k);
    if (!cur) out.set(k, { ...b });
    else {
      cur.min = Math.min(cur.min, b.min);
      cur.max = Math.max(cur.max, b.max);
      cur.sum += b.sum;
      cur.count += b.count;
      cur.firstStep = Math.min(cur.firstStep, b.firstStep);
      cur.lastStep = Math.max(cur.lastStep, b.lastStep);
    }
  };
  if (level === 1) {
    const res = await pool.query(
      `SELECT floor(step::float8 / $5)::int AS b, min(value) AS mn, max(value) AS mx, sum(value) AS sm, count(*)::int AS n,
         min(step) AS fs, max(step) AS ls
       FROM metric_points WHERE run_id = $1 AND key = $2 AND step BETWEEN $3 AND $4 GROUP BY 1`,
      [runId, key, lo, hi, outWidth],
    );
    for (const r of res.rows) add({ min: r.mn, max: r.mx, sum: r.sm, count: r.n, firstStep: r.fs, lastStep: r.ls });
  } else {
    // Whole rollup buckets inside [lo, hi]; the partial buckets at either edge come from raw points.
    const firstWhole = Math.ceil(lo / level);
    const lastWhole = Math.floor((hi + 1) / level) - 1;
    // Merged into output buckets by Postgres: maxPoints rows cross the wire, not span / level.
    const res = await pool.query(
      `SELECT min(min) AS mn, max(max) AS mx, sum(sum) AS sm, sum(count)::int AS n, min(first_step) AS fs, max(last_step) AS ls
       FROM metric_rollups
       WHERE run_id = $1 AND key = $2 AND width = $3 AND bucket BETWEEN $4 AND $5
       GROUP BY floor(first_step::float8 / $6)`,
      [runId, key, level, firstWhole, lastWhole, outWidth],
    );
    for (const r of res.rows) add({ min: r.mn, max: r.mx, sum: r.sm, count: r.n, firstStep: r.fs, lastStep: r.ls });
    const edges: [number, number][] = [];
    if (firstWhole > lastWhole) edges.push([lo, hi]);
    else {
      if (lo < firstWhole * level) edges.push([lo, firstWhole * level - 1]);
      if (hi >= (lastWhole + 1) * level) edges.push([(lastWhole + 1) * level, hi]);
    }
    for (const [a, b] of edges) for (const p of await rawPoints(pool, runId, key, a, b)) add({ ...p, sum: p.value });
  }
  const points = [...out.values()]
    .sort((a, b) => a.firstStep - b.firstStep)
    .map((b) => ({ step: b.firstStep, value: b.sum / b.count, min: b.min, max: b.max, count: b.count, firstStep: b.firstStep, lastStep: b.lastStep }));
  const totalPoints = points.reduce((n, p) => n + p.count, 0);
  return { key, downsampled: true, totalPoints, points };
}
