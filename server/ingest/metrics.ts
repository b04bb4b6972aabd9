// Idempotent batched metric ingestion: points keyed by (run, key, step); a retried batch inserts
// nothing. Newly inserted points are folded into the min/max rollups in the same transaction.
import type pg from "pg";
import { notifyPayload } from "../events/hub.js";
import { inTransaction } from "../db/transaction.js";
import { ROLLUP_WIDTHS } from "../metrics/rollup.js";
import type { BatchOutcome } from "./rollouts.js";

export interface MetricRow {
  key: string;
  step: number;
  value: number;
  time?: Date;
}

const INSERT_SQL = `
WITH base AS (
  UPDATE runs SET metric_seq = metric_seq + $2, updated_at = now() WHERE id = $1
  RETURNING metric_seq - $2 AS b
), ins AS (
  INSERT INTO metric_points (run_id, seq, key, step, value, time)
  SELECT $1, base.b + u.ord, u.k, u.s, u.v, coalesce(u.t, now())
  FROM base, unnest($3::text[], $4::int[], $5::float8[], $6::timestamptz[]) WITH ORDINALITY AS u(k, s, v, t, ord)
  ON CONFLICT (run_id, key, step) DO NOTHING
  RETURNING seq, key, step, value
), agg AS (
  SELECT ins.key, w.width, floor(ins.step::float8 / w.width)::int AS bucket,
    min(value) AS mn, max(value) AS mx, sum(value) AS sm, count(*)::int AS cnt,
    (array_agg(value ORDER BY step))[1] AS fv, (array_agg(value ORDER BY step DESC))[1] AS lv,
    min(step) AS fs, max(step) AS ls
  FROM ins CROSS JOIN unnest($7::int[]) AS w(width)
  GROUP BY ins.key, w.width, 3
), up AS (
  INSERT INTO metric_rollups AS r (run_id, key, width, bucket, min, max, sum, count, first, last, first_step, last_step)
  SELECT $1, key, width, bucket, mn, mx, sm, cnt, fv, lv, fs, ls FROM agg
  ON CONFLICT (run_id, key, width, bucket) DO UPDATE SET
    min = least(r.min, excluded.min), max = greatest(r.max, excluded.max),
    sum = r.sum + excluded.sum, count = r.count + excluded.count,
    first = CASE WHEN excluded.first_step < r.first_step THEN excluded.first ELSE r.first END,
    first_step = least(r.first_step, excluded.first_step),
    last = CASE WHEN excluded.last_step > r.last_step THEN excluded.last ELSE r.last END,
    last_step = greatest(r.last_step, excluded.last_step)
  RETURNING 1
)
SELECT (SELECT count(*) FROM ins)::int AS inserted, (SELECT max(seq) FROM ins) AS max_seq,
  (SELECT b FROM base) AS base, (SELECT count(*) FROM up)::int AS rollups`;

export async function insertMetrics(pool: pg.Pool, runId: string, rows: MetricRow[]): Promise<BatchOutcome> {
  return inTransaction(pool, async (client) => {
    const res = await client.query(INSERT_SQL, [
      runId,
      rows.length,
      rows.map((r) => r.key),
      rows.map((r) => r.step),
      rows.map((r) => r.value),
      rows.map((r) => r.time ?? null),
      [...ROLLUP_WIDTHS],
    ]);
    const { inserted, max_seq, base } = res.rows[0];
    const cursor = BigInt(max_seq ?? base ?? 0);
    if (inserted > 0) await client.query("SELECT pg_notify($1, $2)", notifyPayload(`metrics:${runId}`, cursor));
    return { inserted, duplicates: rows.length - inserted, cursor };
  });
}
