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

/**
 * The points of a series as parallel arrays (index i of each is point i), in step order. This is
 * what the server builds and what `MetricSeries.columns` returns as is: lists of scalars cost
 * graphql-js far less to complete and serialize than one object per point. `points` is derived
 * from it only when a client asks for that field.
 */
export interface SeriesColumns {
  /** Each point's step, which is also its firstStep. */
  steps: number[];
  lastSteps: number[];
  values: number[];
  mins: number[];
  maxs: number[];
  counts: number[];
}

export interface Series {
  key: string;
  downsampled: boolean;
  totalPoints: number;
  columns: SeriesColumns;
}

const emptyColumns = (): SeriesColumns => ({ steps: [], lastSteps: [], values: [], mins: [], maxs: [], counts: [] });

/** One object per point (the `MetricSeries.points` field), from the columns. */
export function seriesPoints(c: SeriesColumns): SeriesPoint[] {
  const out: SeriesPoint[] = new Array(c.steps.length);
  for (let i = 0; i < out.length; i++) {
    out[i] = {
      step: c.steps[i],
      value: c.values[i],
      min: c.mins[i],
      max: c.maxs[i],
      count: c.counts[i],
      firstStep: c.steps[i],
      lastStep: c.lastSteps[i],
    };
  }
  return out;
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
  const done = new Map<string, Series>();
  const downsampled: { key: string; lo: number; hi: number }[] = [];
  await Promise.all(
    [...new Set(keys)].map(async (key) => {
      const e = byKey.get(key);
      if (!e) {
        done.set(key, { key, downsampled: false, totalPoints: 0, columns: emptyColumns() });
        return;
      }
      const first = Math.max(lo, e.lo as number);
      const last = Math.min(hi, e.hi as number);
      // Steps are unique per key, so a window no wider than maxPoints can never need downsampling.
      if ((e.n as number) <= maxPoints || last - first + 1 <= maxPoints) {
        const raw = await rawPoints(pool, runId, key, first, last);
        if (raw.length <= maxPoints) {
          const steps = raw.map((p) => p.step);
          const values = raw.map((p) => p.value);
          done.set(key, {
            key,
            downsampled: false,
            totalPoints: raw.length,
            columns: { steps, lastSteps: steps, values, mins: values, maxs: values, counts: raw.map(() => 1) },
          });
          return;
        }
      }
      downsampled.push({ key, lo: first, hi: last });
    }),
  );
  for (const s of await downsample(pool, runId, downsampled, maxPoints)) done.set(s.key, s);
  return keys.map((key) => done.get(key)!);
}

async function rawPoints(pool: pg.Pool, runId: string, key: string, lo: number, hi: number): Promise<{ step: number; value: number }[]> {
  const res = await pool.query(`SELECT step, value FROM metric_points WHERE run_id = $1 AND key = $2 AND step BETWEEN $3 AND $4 ORDER BY step`, [
    runId,
    key,
    lo,
    hi,
  ]);
  return res.rows;
}

interface Plan {
  key: string;
  lo: number;
  hi: number;
  /** Output bucket width: a multiple of `level`. */
  outWidth: number;
  /** Rollup level read (1: raw points). */
  level: number;
  out: Map<number, Bucket>;
}

/**
 * Downsampled series for several keys, each over its own step range. All keys that can use a
 * rollup level are read with one statement (and their partial edge buckets with one more), so the
 * cost is a few round trips whatever the number of keys.
 */
async function downsample(pool: pg.Pool, runId: string, ranges: { key: string; lo: number; hi: number }[], maxPoints: number): Promise<Series[]> {
  if (!ranges.length) return [];
  const plans: Plan[] = ranges.map(({ key, lo, hi }) => {
    const span = hi - lo + 1;
    // Output buckets are aligned multiples of `outWidth`, itself a multiple of the rollup level used,
    // so every rollup bucket lands wholly inside one output bucket and min/max stay exact.
    let outWidth = Math.max(1, Math.ceil(span / (maxPoints - 1)));
    const level = [...ROLLUP_WIDTHS].reverse().find((w) => w <= outWidth) ?? 1;
    outWidth = Math.ceil(outWidth / level) * level;
    return { key, lo, hi, outWidth, level, out: new Map() };
  });
  const add = (plan: Plan, b: Bucket) => {
    const k = Math.floor(b.firstStep / plan.outWidth);
    const cur = plan.out.get(k);
    if (!cur)
      plan.out.set(k, b); // callers pass a fresh object
    else {
      cur.min = Math.min(cur.min, b.min);
      cur.max = Math.max(cur.max, b.max);
      cur.sum += b.sum;
      cur.count += b.count;
      cur.firstStep = Math.min(cur.firstStep, b.firstStep);
      cur.lastStep = Math.max(cur.lastStep, b.lastStep);
    }
  };
  const fromRaw = plans.filter((p) => p.level === 1);
  const fromRollups = plans.filter((p) => p.level > 1);
  // Whole rollup buckets inside [lo, hi]; the partial buckets at either edge come from raw points.
  const edges: { plan: number; lo: number; hi: number }[] = [];
  const whole = fromRollups.map((p, i) => {
    const firstWhole = Math.ceil(p.lo / p.level);
    const lastWhole = Math.floor((p.hi + 1) / p.level) - 1;
    if (firstWhole > lastWhole) edges.push({ plan: i, lo: p.lo, hi: p.hi });
    else {
      if (p.lo < firstWhole * p.level) edges.push({ plan: i, lo: p.lo, hi: firstWhole * p.level - 1 });
      if (p.hi >= (lastWhole + 1) * p.level) edges.push({ plan: i, lo: (lastWhole + 1) * p.level, hi: p.hi });
    }
    return { firstWhole, lastWhole };
  });
  await Promise.all([
    ...fromRaw.map(async (plan) => {
      const res = await pool.query(
        `SELECT min(value) AS mn, max(value) AS mx, sum(value) AS sm, count(*)::int AS n, min(step) AS fs, max(step) AS ls
         FROM metric_points WHERE run_id = $1 AND key = $2 AND step BETWEEN $3 AND $4 GROUP BY floor(step::float8 / $5)`,
        [runId, plan.key, plan.lo, plan.hi, plan.outWidth],
      );
      for (const r of res.rows) add(plan, { min: r.mn, max: r.mx, sum: r.sm, count: r.n, firstStep: r.fs, lastStep: r.ls });
    }),
    (async () => {
      if (!fromRollups.length) return;
      // Merged into output buckets by Postgres: about maxPoints buckets per key cross the wire, not
      // span / level. One index range per key (LATERAL), as for the extent. Each key's buckets come
      // back as one row of packed binary columns (float8send / int4send: big-endian IEEE doubles and
      // int32s, in no particular order but the same in every column), so neither side formats or
      // parses ~6,000 numbers as text per key, and every value arrives bit for bit.
      const res = await pool.query(
        `SELECT q.i::int AS i, string_agg(float8send(m.mn), '') AS mn, string_agg(float8send(m.mx), '') AS mx,
           string_agg(float8send(m.sm), '') AS sm, string_agg(int4send(m.n), '') AS n,
           string_agg(int4send(m.fs), '') AS fs, string_agg(int4send(m.ls), '') AS ls
         FROM unnest($2::text[], $3::int[], $4::int[], $5::int[], $6::int[]) WITH ORDINALITY AS q(key, level, first_whole, last_whole, out_width, i)
         CROSS JOIN LATERAL (
           SELECT min(min) AS mn, max(max) AS mx, sum(sum) AS sm, sum(count)::int AS n, min(first_step) AS fs, max(last_step) AS ls
           FROM metric_rollups r
           WHERE r.run_id = $1 AND r.key = q.key AND r.width = q.level AND r.bucket BETWEEN q.first_whole AND q.last_whole
           GROUP BY floor(r.first_step::float8 / q.out_width)
         ) m
         GROUP BY q.i`,
        [
          runId,
          fromRollups.map((p) => p.key),
          fromRollups.map((p) => p.level),
          whole.map((w) => w.firstWhole),
          whole.map((w) => w.lastWhole),
          fromRollups.map((p) => p.outWidth),
        ],
      );
      for (const r of res.rows) {
        const plan = fromRollups[r.i - 1];
        const [mn, mx, sm, n, fs, ls] = [r.mn, r.mx, r.sm, r.n, r.fs, r.ls].map(
          (buf: Buffer) => new DataView(buf.buffer, buf.byteOffset, buf.byteLength),
        );
        for (let j = 0; j < fs.byteLength / 4; j++) {
          add(plan, {
            min: mn.getFloat64(j * 8),
            max: mx.getFloat64(j * 8),
            sum: sm.getFloat64(j * 8),
            count: n.getInt32(j * 4),
            firstStep: fs.getInt32(j * 4),
            lastStep: ls.getInt32(j * 4),
          });
        }
      }
    })(),
    (async () => {
      if (!edges.length) return;
      const res = await pool.query(
        `SELECT q.i::int AS i, p.step, p.value
         FROM unnest($2::text[], $3::int[], $4::int[]) WITH ORDINALITY AS q(key, lo, hi, i)
         CROSS JOIN LATERAL (
           SELECT step, value FROM metric_points m WHERE m.run_id = $1 AND m.key = q.key AND m.step BETWEEN q.lo AND q.hi
         ) p`,
        [runId, edges.map((e) => fromRollups[e.plan].key), edges.map((e) => e.lo), edges.map((e) => e.hi)],
      );
      for (const r of res.rows) {
        add(fromRollups[edges[r.i - 1].plan], { min: r.value, max: r.value, sum: r.value, count: 1, firstStep: r.step, lastStep: r.step });
      }
    })(),
  ]);
  return plans.map((plan) => {
    const buckets = [...plan.out.values()].sort((a, b) => a.firstStep - b.firstStep);
    const columns = emptyColumns();
    let totalPoints = 0;
    for (const b of buckets) {
      columns.steps.push(b.firstStep);
      columns.lastSteps.push(b.lastStep);
      columns.values.push(b.sum / b.count);
      columns.mins.push(b.min);
      columns.maxs.push(b.max);
      columns.counts.push(b.count);
      totalPoints += b.count;
    }
    return { key: plan.key, downsampled: true, totalPoints, columns };
  });
}
