// Where each subscription feed ends right now: a subscriber without a cursor starts from here, so
// it sees only what happens after it subscribed.
import type pg from "pg";

export async function rolloutsTail(pool: pg.Pool, runId: string): Promise<bigint> {
  return BigInt((await pool.query("SELECT rollout_seq FROM runs WHERE id = $1", [runId])).rows[0].rollout_seq);
}

export async function metricsTail(pool: pg.Pool, runId: string): Promise<bigint> {
  return BigInt((await pool.query("SELECT metric_seq FROM runs WHERE id = $1", [runId])).rows[0].metric_seq);
}

export async function runVersion(pool: pg.Pool, runId: string): Promise<bigint> {
  return BigInt((await pool.query("SELECT version FROM runs WHERE id = $1", [runId])).rows[0].version);
}

/** item_seq: advanced by item batches and by status changes alike (the benchmarkProgress cursor). */
export async function benchmarkItemSeq(pool: pg.Pool, benchmarkRunId: string): Promise<bigint> {
  return BigInt((await pool.query("SELECT item_seq FROM benchmark_runs WHERE id = $1", [benchmarkRunId])).rows[0].item_seq);
}

export async function jobsTail(pool: pg.Pool): Promise<bigint> {
  return BigInt((await pool.query("SELECT coalesce(max(seq), 0) AS s FROM jobs")).rows[0].s);
}

/** Whether the run exists, read from the same row the run's feeds read their tails from. */
export async function runExists(pool: pg.Pool, runId: string): Promise<boolean> {
  const run = await pool.query("SELECT rollout_seq, metric_seq, version FROM runs WHERE id = $1", [runId]);
  return Boolean(run.rows[0]);
}
