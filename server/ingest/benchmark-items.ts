// Idempotent per-item benchmark results, keyed by (benchmark run, item index). The run's `completed`
// counter moves only by what was really inserted, so retries cannot inflate progress.
import type pg from "pg";
import { pgJson, pgText } from "./text.js";
import { notifyPayload } from "../events/hub.js";
import { inTransaction } from "../db/transaction.js";
import type { BatchOutcome } from "./rollouts.js";

export interface BenchmarkItemRow {
  itemIndex: number;
  itemId: string;
  question: string;
  prediction: string;
  golds: string[];
  score: number;
  metrics?: unknown;
  trajectory: { kind: string; text: string }[];
}

const INSERT_SQL = `
WITH base AS (
  UPDATE benchmark_runs SET item_seq = item_seq + $2 WHERE id = $1 RETURNING item_seq - $2 AS b
), ins AS (
  INSERT INTO benchmark_items (benchmark_run_id, seq, item_index, item_id, question, prediction, golds, score, metrics, trajectory)
  SELECT $1, base.b + u.ord, u.idx, u.iid, u.q, u.p, ARRAY(SELECT jsonb_array_elements_text(u.g::jsonb)), u.sc, u.m::jsonb, u.t::jsonb
  FROM base, unnest($3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::float8[], $9::text[], $10::text[])
    WITH ORDINALITY AS u(idx, iid, q, p, g, sc, m, t, ord)
  ON CONFLICT (benchmark_run_id, item_index) DO NOTHING
  RETURNING seq
)
SELECT (SELECT count(*) FROM ins)::int AS inserted, (SELECT max(seq) FROM ins) AS max_seq, (SELECT b FROM base) AS base`;

export async function insertBenchmarkItems(pool: pg.Pool, benchmarkRunId: string, rows: BenchmarkItemRow[]): Promise<BatchOutcome> {
  return inTransaction(pool, async (client) => {
    const res = await client.query(INSERT_SQL, [
      benchmarkRunId,
      rows.length,
      rows.map((r) => r.itemIndex),
      rows.map((r) => pgText(r.itemId)),
      rows.map((r) => pgText(r.question)),
      rows.map((r) => pgText(r.prediction)),
      rows.map((r) => pgJson(r.golds)),
      rows.map((r) => r.score),
      rows.map((r) => pgJson(r.metrics ?? {})),
      rows.map((r) => pgJson(r.trajectory)),
    ]);
    const { inserted, max_seq, base } = res.rows[0];
    const cursor = BigInt(max_seq ?? base ?? 0);
    if (inserted > 0) {
      await client.query("UPDATE benchmark_runs SET completed = completed + $2, version = version + 1 WHERE id = $1", [benchmarkRunId, inserted]);
    }
    if (inserted > 0) await client.query("SELECT pg_notify($1, $2)", notifyPayload(`bench:${benchmarkRunId}`, cursor));
    return { inserted, duplicates: rows.length - inserted, cursor };
  });
}
