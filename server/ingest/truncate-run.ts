// A job restarting from a checkpoint first discards what the run recorded after that step, so the
// redone steps do not collide with (or get mixed into) the abandoned ones.
import type pg from "pg";
import { inTransaction } from "../db/transaction.js";
import { touchRun } from "../jobs/queue.js";
import { ROLLUP_WIDTHS } from "../metrics/rollup.js";

export async function truncateRun(pool: pg.Pool, runId: string, afterStep: number): Promise<void> {
  await inTransaction(pool, async (c) => {
    await c.query("SELECT 1 FROM runs WHERE id = $1 FOR UPDATE", [runId]);
    await c.query("DELETE FROM rollouts WHERE run_id = $1 AND step > $2", [runId, afterStep]);
    await c.query("DELETE FROM metric_points WHERE run_id = $1 AND step > $2", [runId, afterStep]);
    // Adapters and checkpoints of the discarded steps describe a trajectory that no longer exists
    // (the redone steps upload their own). Files stay: the store is content-addressed and shared.
    await c.query(
      `DELETE FROM artifacts a WHERE a.run_id = $1 AND a.step > $2
         AND NOT EXISTS (SELECT 1 FROM benchmark_runs b WHERE b.adapter_artifact_id = a.id)`,
      [runId, afterStep],
    );
    // Rebuild the rollups of the affected buckets from the surviving points.
    await c.query(`DELETE FROM metric_rollups WHERE run_id = $1 AND last_step > $2`, [runId, afterStep]);
    await c.query(
      `INSERT INTO metric_rollups (run_id, key, width, bucket, min, max, sum, count, first, last, first_step, last_step)
       SELECT $1, key, w, floor(step::float8 / w)::int, min(value), max(value), sum(value), count(*)::int,
         (array_agg(value ORDER BY step))[1], (array_agg(value ORDER BY step DESC))[1], min(step), max(step)
       FROM metric_points CROSS JOIN unnest($3::int[]) AS w
       WHERE run_id = $1 AND floor(step::float8 / w) * w + w - 1 > $2
       GROUP BY key, w, floor(step::float8 / w)::int
       ON CONFLICT DO NOTHING`,
      [runId, afterStep, [...ROLLUP_WIDTHS]],
    );
    await touchRun(c, runId, "step = LEAST(step, $2)", [afterStep]);
  });
}
