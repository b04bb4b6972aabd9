// Resuming a FAILED or CANCELLED run: the run goes back to QUEUED and gets a fresh TRAIN job in one
// transaction, so a worker claiming the job never sees the run still marked finished.
import type pg from "pg";
import type { RunConfig } from "../../contracts/index.js";
import { inTransaction } from "../db/transaction.js";
import { enqueueJob, touchRun } from "./queue.js";

export async function requeueRun(pool: pg.Pool, runId: string, config: RunConfig): Promise<void> {
  await inTransaction(pool, async (c) => {
    await touchRun(c, runId, `status = 'QUEUED', error = NULL, finished_at = NULL`);
    await enqueueJob(c, { kind: "TRAIN", runId, requirements: config.requirements });
  });
}
