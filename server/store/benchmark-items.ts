// Reads of a benchmark run's items, shared by the items page and the benchmarkProgress feed.
import type pg from "pg";
import { decodeCursor, encodeCursor, hasMoreRows, pageSize } from "../graphql/pagination.js";
import { benchmarkItemFromRow, type BenchmarkItemDbRow } from "./benchmark-item-row.js";

export async function fetchBenchmarkItemsAfter(pool: pg.Pool, benchmarkRunId: string, after: bigint, limit: number) {
  const res = await pool.query(`SELECT * FROM benchmark_items WHERE benchmark_run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, [
    benchmarkRunId,
    String(after),
    limit,
  ]);
  return (res.rows as BenchmarkItemDbRow[]).map(benchmarkItemFromRow);
}

/** Items in item order (not arrival order), optionally within a score range. */
export async function benchmarkItemsPage(
  pool: pg.Pool,
  benchmarkRunId: string,
  scores: { minScore?: number | null; maxScore?: number | null },
  first: number | null | undefined,
  after: string | null | undefined,
) {
  const { minScore, maxScore } = scores;
  const take = pageSize(first);
  const c = decodeCursor(after, ["int"]);
  const res = await pool.query(
    `SELECT * FROM benchmark_items WHERE benchmark_run_id = $1 AND item_index > $2
       AND ($3::float8 IS NULL OR score >= $3) AND ($4::float8 IS NULL OR score <= $4)
     ORDER BY item_index LIMIT $5`,
    [benchmarkRunId, c ? Number(c[0]) : -1, minScore ?? null, maxScore ?? null, take + 1],
  );
  const count = await pool.query(
    `SELECT count(*)::int AS n FROM benchmark_items WHERE benchmark_run_id = $1
       AND ($2::float8 IS NULL OR score >= $2) AND ($3::float8 IS NULL OR score <= $3)`,
    [benchmarkRunId, minScore ?? null, maxScore ?? null],
  );
  const rows = (res.rows as BenchmarkItemDbRow[]).map(benchmarkItemFromRow);
  const hasNextPage = hasMoreRows(rows.length, take);
  const nodes = rows.slice(0, take);
  const last = nodes[nodes.length - 1];
  return { nodes, pageInfo: { endCursor: last ? encodeCursor([last.itemIndex]) : null, hasNextPage }, totalCount: count.rows[0].n as number };
}
