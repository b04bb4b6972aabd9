// Dataset items by the name rollouts give them (questionId is the item's externalId), in each run's
// own dataset. A page of rollouts resolves its items together: lookups made while one GraphQL
// result is being built are answered by one query, instead of one query per rollout.
import type pg from "pg";
import { type DatasetItemRecord, datasetItemFromRow } from "./dataset-item-row.js";

export type { DatasetItemRecord };

interface Lookup {
  runId: string;
  questionId: string;
  resolve(item: DatasetItemRecord | null): void;
  reject(err: unknown): void;
  promise: Promise<DatasetItemRecord | null>;
}

// A batch per request (its context object), dropped once flushed: nothing is cached, so a
// long-lived subscription holds no items and always sees the dataset as it is.
const pending = new WeakMap<object, Map<string, Lookup>>();

// The run's config names its dataset; the guard keeps a hand-written config from failing the cast.
const SQL = `
  SELECT DISTINCT ON (q.run_id, q.question_id) q.run_id::text AS run_id, q.question_id,
    i.index, i.external_id, i.split, i.question, i.golds, i.extra
  FROM unnest($1::uuid[], $2::text[]) AS q(run_id, question_id)
  JOIN runs r ON r.id = q.run_id
  CROSS JOIN LATERAL (
    SELECT CASE WHEN r.config #>> '{dataset,id}' ~* '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$'
      THEN (r.config #>> '{dataset,id}')::uuid END AS dataset_id
  ) d
  JOIN dataset_items i ON i.dataset_id = d.dataset_id AND i.external_id = q.question_id
  ORDER BY q.run_id, q.question_id, i.index`;

const keyOf = (runId: string, questionId: string) => `${runId}\u0000${questionId}`;

export function lookupDatasetItem(pool: pg.Pool, batchScope: object, runId: string, questionId: string): Promise<DatasetItemRecord | null> {
  let batch = pending.get(batchScope);
  if (!batch) {
    const fresh = new Map<string, Lookup>();
    pending.set(batchScope, fresh);
    // setImmediate, not a microtask: GraphQL completes a list's items across several microtask
    // turns, and all of them should land in this batch.
    setImmediate(() => {
      pending.delete(batchScope);
      void flush(pool, fresh);
    });
    batch = fresh;
  }
  const key = keyOf(runId, questionId);
  let lookup = batch.get(key);
  if (!lookup) {
    let resolve!: Lookup["resolve"];
    let reject!: Lookup["reject"];
    const promise = new Promise<DatasetItemRecord | null>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    lookup = { runId, questionId, resolve, reject, promise };
    batch.set(key, lookup);
  }
  return lookup.promise;
}

async function flush(pool: pg.Pool, batch: Map<string, Lookup>): Promise<void> {
  const lookups = [...batch.values()];
  try {
    const res = await pool.query(SQL, [lookups.map((l) => l.runId), lookups.map((l) => l.questionId)]);
    const found = new Map<string, DatasetItemRecord>();
    for (const r of res.rows) {
      found.set(keyOf(r.run_id, r.question_id), datasetItemFromRow(r));
    }
    for (const l of lookups) l.resolve(found.get(keyOf(l.runId, l.questionId)) ?? null);
  } catch (err) {
    for (const l of lookups) l.reject(err);
  }
}
