// Reads of a run's raw metric points (pages, the metricsAdded feed, latest values, key list); the
// downsampled series for charts live in server/metrics/series.ts.
import type pg from "pg";
import { decodeCursor, encodeCursor, hasMoreRows, pageSize } from "../graphql/pagination.js";

export async function metricPointsPage(
  pool: pg.Pool,
  runId: string,
  keys: string[] | null | undefined,
  first: number | null | undefined,
  after: string | null | undefined,
) {
  const take = pageSize(first, 1000, 10_000);
  const c = decodeCursor(after, ["int"]);
  const res = await pool.query(
    `SELECT key, step, value, time, seq FROM metric_points
     WHERE run_id = $1 AND seq > $2 AND ($3::text[] IS NULL OR key = ANY($3)) ORDER BY seq LIMIT $4`,
    [runId, c ? c[0] : "0", keys ?? null, take + 1],
  );
  const rows = res.rows.map((r) => ({ key: r.key, step: r.step, value: r.value, time: r.time, cursor: BigInt(r.seq) }));
  const hasNextPage = hasMoreRows(rows.length, take);
  const nodes = rows.slice(0, take);
  const last = nodes[nodes.length - 1];
  const count = await pool.query("SELECT count(*)::int AS n FROM metric_points WHERE run_id = $1 AND ($2::text[] IS NULL OR key = ANY($2))", [
    runId,
    keys ?? null,
  ]);
  return { nodes, pageInfo: { endCursor: last ? encodeCursor([last.cursor]) : null, hasNextPage }, totalCount: count.rows[0].n as number };
}

export async function fetchMetricPointsAfter(pool: pg.Pool, runId: string, after: bigint, limit: number) {
  const res = await pool.query(`SELECT key, step, value, time, seq FROM metric_points WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, [
    runId,
    String(after),
    limit,
  ]);
  return res.rows.map((r) => ({ key: r.key as string, step: r.step, value: r.value, time: r.time, cursor: BigInt(r.seq) }));
}

/** The newest point of each key (all keys when `keys` is null). */
export async function latestMetricPoints(pool: pg.Pool, runId: string, keys: string[] | null | undefined) {
  const res = await pool.query(
    `SELECT DISTINCT ON (key) key, step, value, time, seq FROM metric_points
     WHERE run_id = $1 AND ($2::text[] IS NULL OR key = ANY($2)) ORDER BY key, step DESC`,
    [runId, keys ?? null],
  );
  return res.rows.map((r) => ({ key: r.key, step: r.step, value: r.value, time: r.time, cursor: r.seq }));
}

/** Every key the run has logged, read from the coarsest rollup (one row per key and bucket). */
export async function metricKeys(pool: pg.Pool, runId: string) {
  const res = await pool.query("SELECT DISTINCT key FROM metric_rollups WHERE run_id = $1 AND width = 4096 ORDER BY key", [runId]);
  return res.rows.map((r) => r.key as string);
}
