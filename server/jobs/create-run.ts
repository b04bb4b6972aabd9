// A run and its TRAIN job are created together: a run without a job would sit QUEUED forever, a job
// without its run would fail on the first claim.
import type pg from "pg";
import type { RunConfig } from "../../contracts/index.js";
import { inTransaction } from "../db/transaction.js";
import { enqueueJob } from "./queue.js";

export interface NewRun {
  experimentId: string;
  name: string;
  config: RunConfig;
  curriculumId?: string | null;
  parentRunId?: string;
  forkStep?: number | null;
}

/** Returns the new run's id. */
export async function createRunWithJob(pool: pg.Pool, run: NewRun): Promise<string> {
  return inTransaction(pool, async (c) => {
    const res = await c.query(
      `INSERT INTO runs (experiment_id, name, config, curriculum_id, seed, parent_run_id, fork_step)
       VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7) RETURNING id`,
      [
        run.experimentId,
        run.name,
        JSON.stringify(run.config),
        run.curriculumId ?? null,
        run.config.seed,
        run.parentRunId ?? null,
        run.forkStep ?? null,
      ],
    );
    const runId = res.rows[0].id as string;
    await enqueueJob(c, { kind: "TRAIN", runId, requirements: run.config.requirements });
    return runId;
  });
}
