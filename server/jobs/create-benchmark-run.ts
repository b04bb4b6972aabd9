// A benchmark run and its EVAL job are created together, like a training run and its TRAIN job.
import type pg from "pg";
import type { BenchmarkConfig } from "../../contracts/index.js";
import { inTransaction } from "../db/transaction.js";
import { enqueueJob } from "./queue.js";

export interface NewBenchmarkRun {
  name: string;
  datasetId: string;
  model: string;
  adapterArtifactId: string | null;
  config: BenchmarkConfig;
  /** How many items the run will score: the split's size, capped by config.limit. */
  total: number;
}

/** Returns the new benchmark run's id. */
export async function createBenchmarkRunWithJob(pool: pg.Pool, run: NewBenchmarkRun): Promise<string> {
  return inTransaction(pool, async (c) => {
    const res = await c.query(
      `INSERT INTO benchmark_runs (name, dataset_id, model, adapter_artifact_id, config, total) VALUES ($1, $2, $3, $4, $5::jsonb, $6) RETURNING id`,
      [run.name, run.datasetId, run.model, run.adapterArtifactId, JSON.stringify(run.config), run.total],
    );
    await enqueueJob(c, { kind: "EVAL", benchmarkRunId: res.rows[0].id, requirements: run.config.requirements });
    return res.rows[0].id as string;
  });
}
