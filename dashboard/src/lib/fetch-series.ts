// Chart series for any number of keys: metricSeries answers at most 50 keys a call, and a run may
// log more than that.
import type { IcrlClient } from "./sdk.js";
import { MetricSeriesColumnsDocument } from "./sdk.js";
import { pointsFromColumns, type Point } from "./series.js";

const KEYS_PER_CALL = 50;

export async function fetchSeries(
  client: IcrlClient,
  runId: string,
  keys: string[],
  maxPoints: number,
  signal?: AbortSignal,
): Promise<Record<string, Point[]>> {
  const chunks: string[][] = [];
  for (let i = 0; i < keys.length; i += KEYS_PER_CALL) chunks.push(keys.slice(i, i + KEYS_PER_CALL));
  const answers = await Promise.all(chunks.map((chunk) => client.query(MetricSeriesColumnsDocument, { runId, keys: chunk, maxPoints }, { signal })));
  const out: Record<string, Point[]> = {};
  for (const a of answers) for (const s of a.metricSeries) out[s.key] = pointsFromColumns(s.columns);
  return out;
}
