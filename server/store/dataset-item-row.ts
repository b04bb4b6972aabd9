// A dataset item as the API returns it, from its database row: one mapper for every read of items.
export interface DatasetItemRecord {
  index: number;
  externalId: string;
  split: string;
  question: string;
  golds: string[];
  extra: unknown;
}

export interface DatasetItemRow {
  index: number;
  external_id: string;
  split: string;
  question: string;
  golds: string[];
  extra: unknown;
}

export function datasetItemFromRow(r: DatasetItemRow): DatasetItemRecord {
  return { index: r.index, externalId: r.external_id, split: r.split, question: r.question, golds: r.golds, extra: r.extra };
}
