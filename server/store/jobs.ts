// Reads of the job queue for operators (the jobs page) and for workers waiting on new work (the
// jobAvailable feed); the queue's writes stay in server/jobs/queue.ts.
import type pg from "pg";
import { decodeCursor, encodeCursor, hasMoreRows, pageSize } from "../graphql/pagination.js";
import { jobFromRow } from "./job-row.js";

export async function jobsPage(
  pool: pg.Pool,
  status: readonly string[] | null | undefined,
  first: number | null | undefined,
  after: string | null | undefined,
) {
  const take = pageSize(first);
  const c = decodeCursor(after, ["int"]);
  const res = await pool.query(`SELECT * FROM jobs WHERE ($1::text[] IS NULL OR status::text = ANY($1)) AND seq < $2 ORDER BY seq DESC LIMIT $3`, [
    status?.length ? status : null,
    c ? c[0] : "9223372036854775807",
    take + 1,
  ]);
  const count = await pool.query(`SELECT count(*)::int AS n FROM jobs WHERE ($1::text[] IS NULL OR status::text = ANY($1))`, [
    status?.length ? status : null,
  ]);
  const rows = res.rows.map(jobFromRow);
  const hasNextPage = hasMoreRows(rows.length, take);
  const nodes = rows.slice(0, take);
  const last = nodes[nodes.length - 1];
  return { nodes, pageInfo: { endCursor: last ? encodeCursor([last.seq]) : null, hasNextPage }, totalCount: count.rows[0].n };
}

export async function fetchQueuedJobsAfter(pool: pg.Pool, after: bigint, limit: number) {
  const res = await pool.query(`SELECT * FROM jobs WHERE seq > $1 AND status = 'QUEUED' ORDER BY seq LIMIT $2`, [String(after), limit]);
  return res.rows.map((r) => ({ cursor: BigInt(r.seq), job: jobFromRow(r) }));
}
