// A worker's progress report (step, stage, shots) updates only the fields it sent, and bumps the
// run's version so runUpdated subscribers see it.
import type pg from "pg";
import { inTransaction } from "../db/transaction.js";
import { touchRun } from "../jobs/queue.js";

export interface RunProgress {
  step?: number | null;
  stage?: number | null;
  shots?: number | null;
}

export async function recordRunProgress(pool: pg.Pool, runId: string, progress: RunProgress): Promise<void> {
  const sets: string[] = [];
  const params: unknown[] = [];
  for (const [col, v] of [
    ["step", progress.step],
    ["stage", progress.stage],
    ["shots", progress.shots],
  ] as const) {
    if (v != null) {
      params.push(v);
      sets.push(`${col} = $${params.length + 1}`);
    }
  }
  if (sets.length) await inTransaction(pool, (c) => touchRun(c, runId, sets.join(", "), params));
}
