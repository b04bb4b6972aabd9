// Reads of a run's rollouts, shared by the rollouts queries and the rolloutAdded feed so both see
// the same rows in the same cursor order.
import type pg from "pg";
import type { RolloutFilter } from "../generated/graphql.js";
import { decodeCursor, encodeCursor, hasMoreRows, pageSize } from "../graphql/pagination.js";
import { rolloutFilterSql } from "./rollout-filter-sql.js";
import { rolloutFromRow, type RolloutDbRow } from "./rollout-row.js";

export async function fetchRolloutsAfter(pool: pg.Pool, runId: string, after: bigint, limit: number, filter?: Partial<RolloutFilter> | null) {
  const params: unknown[] = [runId, String(after), limit];
  const where = rolloutFilterSql(filter, params);
  const res = await pool.query(`SELECT * FROM rollouts WHERE run_id = $1 AND seq > $2${where} ORDER BY seq LIMIT $3`, params);
  return (res.rows as RolloutDbRow[]).map(rolloutFromRow);
}

export async function rolloutPage(
  pool: pg.Pool,
  runId: string,
  first: number | null | undefined,
  after: string | null | undefined,
  filter: RolloutFilter | null | undefined,
) {
  const take = pageSize(first);
  const c = decodeCursor(after, ["int"]);
  const from = c ? BigInt(c[0]) : 0n;
  const nodes = await fetchRolloutsAfter(pool, runId, from, take + 1, filter);
  const hasNextPage = hasMoreRows(nodes.length, take);
  const kept = nodes.slice(0, take);
  const params: unknown[] = [runId];
  const where = rolloutFilterSql(filter, params);
  const count = await pool.query(`SELECT count(*)::int AS n FROM rollouts WHERE run_id = $1${where}`, params);
  const last = kept[kept.length - 1];
  return {
    nodes: kept,
    pageInfo: { endCursor: last ? encodeCursor([last.cursor]) : null, hasNextPage },
    totalCount: count.rows[0].n as number,
  };
}

/** One rollout by its id (digits), or null. */
export async function fetchRollout(pool: pg.Pool, id: string) {
  const res = await pool.query("SELECT * FROM rollouts WHERE id = $1", [id]);
  return res.rows[0] ? rolloutFromRow(res.rows[0]) : null;
}
