// Benchmark items are read with raw SQL (pages and the benchmarkProgress feed); this maps their
// snake_case rows to the camelCase BenchmarkItem GraphQL type in one place.

export interface BenchmarkItemDbRow {
  id: string;
  seq: string;
  item_index: number;
  item_id: string;
  question: string;
  prediction: string;
  golds: string[];
  score: number;
  metrics: unknown;
  trajectory: unknown;
}

export function benchmarkItemFromRow(r: BenchmarkItemDbRow) {
  return {
    id: String(r.id),
    cursor: BigInt(r.seq),
    itemIndex: r.item_index,
    itemId: r.item_id,
    question: r.question,
    prediction: r.prediction,
    golds: r.golds,
    score: r.score,
    metrics: r.metrics,
    trajectory: r.trajectory,
  };
}
