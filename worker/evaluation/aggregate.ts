// The benchmark run's summary: means over every item of the run (items stored by an earlier attempt
// included, so a resumed job reports the same numbers as an uninterrupted one).

export interface ScoredItem {
  score: number;
  metrics?: Record<string, unknown> | null;
}

export interface BenchmarkAggregate {
  /** Number of items averaged. */
  n: number;
  /** Mean of the benchmark's metric (the per-item `score`). */
  accuracy: number;
  metric: string;
  /** QA only: exact match and token F1 means. */
  em?: number;
  f1?: number;
  toolCallsMean: number;
  turnsMean: number;
  tokensMean: number;
  /** Share of items that ended with an <answer>. */
  answeredRate: number;
}

function mean(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

function numbers(items: ScoredItem[], key: string): number[] {
  const out: number[] = [];
  for (const item of items) {
    const v = item.metrics?.[key];
    if (typeof v === "number" && Number.isFinite(v)) out.push(v);
  }
  return out;
}

export function aggregateItems(items: ScoredItem[], metric: string): BenchmarkAggregate {
  const aggregate: BenchmarkAggregate = {
    n: items.length,
    accuracy: mean(items.map((i) => i.score)),
    metric,
    toolCallsMean: mean(numbers(items, "toolCalls")),
    turnsMean: mean(numbers(items, "turns")),
    tokensMean: mean(numbers(items, "tokens")),
    answeredRate: items.length === 0 ? 0 : items.filter((i) => i.metrics?.finishReason === "answer").length / items.length,
  };
  for (const key of ["em", "f1"] as const) {
    const values = numbers(items, key);
    if (values.length > 0) aggregate[key] = mean(values);
  }
  return aggregate;
}
