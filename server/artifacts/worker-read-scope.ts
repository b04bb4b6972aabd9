// Which artifacts a worker token may download. A worker key is handed to machines that run jobs, so it
// reads only what the jobs it holds right now need: the artifacts of a held TRAIN job's run (its own
// checkpoints, to resume) and of that run's parent (a fork starts from the parent's checkpoint, see
// store/claim-context.ts), and the adapter a held EVAL job's benchmark run evaluates. ADMIN and MEMBER
// keys read every artifact; nothing else limits a worker's reads.
import type pg from "pg";

/** The rule a refused read names, for the 403 body. */
export const WORKER_READ_RULE =
  "a worker key reads only the artifacts of jobs it holds: its TRAIN job's run (or that run's parent) and its EVAL job's adapter";

export async function workerMayRead(pool: pg.Pool, workerId: string | null, artifact: { id: string; runId: string | null }): Promise<boolean> {
  if (!workerId) return false; // a registration key holds no jobs
  const res = await pool.query(
    `SELECT 1 FROM jobs j
       LEFT JOIN runs r ON r.id = j.run_id
       LEFT JOIN benchmark_runs b ON b.id = j.benchmark_run_id
     WHERE j.lease_owner_id = $1 AND j.status = 'LEASED'
       AND (($3::uuid IS NOT NULL AND (j.run_id = $3::uuid OR r.parent_run_id = $3::uuid)) OR b.adapter_artifact_id = $2::uuid)
     LIMIT 1`,
    [workerId, artifact.id, artifact.runId],
  );
  return res.rowCount !== null && res.rowCount > 0;
}
