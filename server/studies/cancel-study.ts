// cancelStudy: marks the study cancelled and cancels each run still queued or running (a running one
// stops at its next step, like cancelRun); finished runs keep their results.
import type pg from "pg";
import { notifyPayload } from "../events/hub.js";
import { requestCancel } from "../jobs/queue.js";

export async function cancelStudy(pool: pg.Pool, studyId: string): Promise<void> {
  const open = await pool.query<{ id: string }>("SELECT id FROM runs WHERE study_id = $1 AND status IN ('QUEUED', 'RUNNING')", [studyId]);
  await pool.query("UPDATE studies SET cancelled_at = COALESCE(cancelled_at, now()) WHERE id = $1", [studyId]);
  for (const run of open.rows) await requestCancel(pool, { runId: run.id });
  await pool.query("SELECT pg_notify($1, $2)", notifyPayload(`study:${studyId}`, 0));
}
