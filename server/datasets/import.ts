// Import a dataset file into Postgres in chunks, hashing the normalised items so the same content
// imported twice is recognisable (contentHash).
import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import type pg from "pg";
import { inTransaction } from "../db/transaction.js";
import { DatasetFormatError, readJsonl, readVerlParquet, type DatasetItemInput } from "./parse.js";

const CHUNK = 1000;

export interface ImportRequest {
  name: string;
  kind: "QA" | "MATH";
  format: "JSONL" | "VERL_PARQUET";
  path: string;
  source: string;
  defaultSplit: string;
}

export { DatasetFormatError };

export async function importDatasetFile(pool: pg.Pool, req: ImportRequest): Promise<string> {
  await stat(req.path).catch(() => {
    throw new DatasetFormatError(`cannot read ${req.path} on the server.`);
  });
  const items = req.format === "JSONL" ? readJsonl(req.path, req.defaultSplit) : readVerlParquet(req.path, req.defaultSplit);
  return inTransaction(pool, async (c) => {
    const created = await c.query(`INSERT INTO datasets (name, kind, item_count, source, content_hash) VALUES ($1, $2, 0, $3, '') RETURNING id`, [
      req.name,
      req.kind,
      req.source,
    ]);
    const id = created.rows[0].id as string;
    const hash = createHash("sha256");
    const splits = new Set<string>();
    let index = 0;
    let chunk: DatasetItemInput[] = [];
    const flush = async () => {
      if (!chunk.length) return;
      await c.query(
        `INSERT INTO dataset_items (dataset_id, index, external_id, split, question, golds, extra)
         SELECT $1, u.i, u.e, u.s, u.q, ARRAY(SELECT jsonb_array_elements_text(u.g::jsonb)), u.x::jsonb
         FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS u(i, e, s, q, g, x)`,
        [
          id,
          chunk.map((_, k) => index - chunk.length + k),
          chunk.map((it) => it.externalId),
          chunk.map((it) => it.split),
          chunk.map((it) => it.question),
          chunk.map((it) => JSON.stringify(it.golds)),
          chunk.map((it) => (it.extra ? JSON.stringify(it.extra) : null)),
        ],
      );
      chunk = [];
    };
    // Rollouts and exports refer to items by id: two items with one id would attach one item's
    // question and golds to the other's rollouts (merged files, such as NQ + HotpotQA, repeat ids).
    const seen = new Map<string, number>();
    for await (const item of items) {
      const first = seen.get(item.externalId);
      if (first !== undefined) {
        const source = item.extra?.data_source ? ` (data_source ${String(item.extra.data_source)})` : "";
        throw new DatasetFormatError(
          `item ${index + 1}${source} has id "${item.externalId}", like item ${first + 1}: ids must be unique within a dataset, since rollouts refer to items by id. Give each source's rows distinct ids (e.g. prefix them with the data source) or import the files as separate datasets.`,
        );
      }
      seen.set(item.externalId, index);
      hash.update(JSON.stringify([item.externalId, item.split, item.question, item.golds]) + "\n");
      splits.add(item.split);
      chunk.push(item);
      index++;
      if (chunk.length >= CHUNK) await flush();
    }
    await flush();
    if (index === 0) throw new DatasetFormatError("the file holds no items.");
    await c.query(`UPDATE datasets SET item_count = $2, content_hash = $3, splits = $4 WHERE id = $1`, [
      id,
      index,
      hash.digest("hex"),
      [...splits].sort(),
    ]);
    return id;
  });
}
