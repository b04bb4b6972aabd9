// Reads of a dataset's items, shared by the Dataset.items field (people) and jobDatasetItems
// (workers, scoped to their job's dataset) so both page the same way.
import type pg from "pg";
import { decodeCursor, encodeCursor, hasMoreRows, pageSize } from "../graphql/pagination.js";
import { datasetItemFromRow } from "./dataset-item-row.js";

export async function countDatasetItems(pool: pg.Pool, datasetId: string, split: string | null | undefined): Promise<number> {
  const res = await pool.query(`SELECT count(*)::int AS n FROM dataset_items WHERE dataset_id = $1 AND ($2::text IS NULL OR split = $2)`, [
    datasetId,
    split ?? null,
  ]);
  return res.rows[0].n as number;
}

export async function datasetItemsPage(
  pool: pg.Pool,
  datasetId: string,
  split: string | null | undefined,
  first: number | null | undefined,
  after: string | null | undefined,
) {
  const take = pageSize(first, 50, 5000);
  const c = decodeCursor(after, ["int"]);
  const res = await pool.query(
    `SELECT index, external_id, split, question, golds, extra FROM dataset_items
     WHERE dataset_id = $1 AND ($2::text IS NULL OR split = $2) AND index > $3 ORDER BY index LIMIT $4`,
    [datasetId, split ?? null, c ? Number(c[0]) : -1, take + 1],
  );
  const rows = res.rows.map(datasetItemFromRow);
  const totalCount = await countDatasetItems(pool, datasetId, split);
  const hasNextPage = hasMoreRows(rows.length, take);
  const nodes = rows.slice(0, take);
  const last = nodes[nodes.length - 1];
  return { nodes, pageInfo: { endCursor: last ? encodeCursor([last.index]) : null, hasNextPage }, totalCount };
}
