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
  /** A cell of a study: its study and arm (the seed is the config's). */
  studyId?: string;
  arm?: string;
}

/** Inside the caller's transaction (a study creates all its runs in one); returns the run's id. */
export async function insertRunWithJob(c: pg.PoolClient, run: NewRun): Promise<string> {
  const res = await c.query(
    `INSERT INTO runs (experiment_id, name, config, curriculum_id, seed, parent_run_id, fork_step, study_id, arm)
     VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9) RETURNING id`,
    [
      run.experimentId,
      run.name,
      JSON.stringify(run.config),
      run.curriculumId ?? null,
      run.config.seed,
      run.parentRunId ?? null,
      run.forkStep ?? null,
      run.studyId ?? null,
      run.arm ?? null,
    ],
  );
  const runId = res.rows[0].id as string;
  await enqueueJob(c, { kind: "TRAIN", runId, requirements: run.config.requirements });
  return runId;
}

/** Returns the new run's id. */
export async function createRunWithJob(pool: pg.Pool, run: NewRun): Promise<string> {
  return inTransaction(pool, (c) => insertRunWithJob(c, run));
}
