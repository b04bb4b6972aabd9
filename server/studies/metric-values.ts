// The metric points a study's summaries are made of, read straight from metric_points (one point per
// run, key and step), so every figure can be recomputed from the runs' own series.
import type pg from "pg";

export type PointChoice = { at: "FINAL" } | { at: "BEST"; higherIsBetter: boolean } | { at: "STEP"; step: number };

export interface RunValue {
  runId: string;
  step: number;
  value: number;
}

/** One value per run that has logged `key` (runs without one are absent). */
export async function pickRunValues(pool: pg.Pool, runIds: string[], key: string, choice: PointChoice): Promise<Map<string, RunValue>> {
  const params: unknown[] = [runIds, key];
  let where = "";
  let order = "step DESC";
  if (choice.at === "BEST") order = `value ${choice.higherIsBetter ? "DESC" : "ASC"}, step ASC`;
  if (choice.at === "STEP") {
    params.push(choice.step);
    where = "AND step <= $3";
  }
  const res = await pool.query<{ run_id: string; step: number; value: number }>(
    `SELECT DISTINCT ON (run_id) run_id, step, value FROM metric_points
     WHERE run_id = ANY($1::uuid[]) AND key = $2 AND value <> 'NaN'::float8 ${where}
     ORDER BY run_id, ${order}`,
    params,
  );
  return new Map(res.rows.map((r) => [r.run_id, { runId: r.run_id, step: r.step, value: r.value }]));
}

/** Every point of `key` for the runs, by step. */
export async function runSeries(pool: pg.Pool, runIds: string[], key: string): Promise<RunValue[]> {
  const res = await pool.query<{ run_id: string; step: number; value: number }>(
    "SELECT run_id, step, value FROM metric_points WHERE run_id = ANY($1::uuid[]) AND key = $2 AND value <> 'NaN'::float8 ORDER BY step",
    [runIds, key],
  );
  return res.rows.map((r) => ({ runId: r.run_id, step: r.step, value: r.value }));
}

/** For each run, the first step logged in each curriculum stage (from the worker's curriculum/stage metric). */
export async function stageStarts(pool: pg.Pool, runIds: string[], stageKey: string): Promise<{ runId: string; stage: number; step: number }[]> {
  const res = await pool.query<{ run_id: string; stage: number; step: number }>(
    `SELECT run_id, round(value)::int AS stage, min(step) AS step FROM metric_points
     WHERE run_id = ANY($1::uuid[]) AND key = $2 GROUP BY run_id, round(value)::int`,
    [runIds, stageKey],
  );
  return res.rows.map((r) => ({ runId: r.run_id, stage: r.stage, step: r.step }));
}

export async function studyMetricKeys(pool: pg.Pool, runIds: string[]): Promise<string[]> {
  const res = await pool.query<{ key: string }>("SELECT DISTINCT key FROM metric_points WHERE run_id = ANY($1::uuid[]) ORDER BY key", [runIds]);
  return res.rows.map((r) => r.key);
}
