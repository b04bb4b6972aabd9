// What `icrl run watch` shows of a run that has already finished: no event will ever come, so the
// history is read with queries instead of subscriptions (which would wait forever for the next one).
import {
  type IcrlClient,
  type MetricPointFieldsFragment,
  MetricPointsDocument,
  MetricSeriesDocument,
  type RolloutFieldsFragment,
  RolloutsDocument,
} from "../../client-sdk/src/index.js";
import { pages } from "./paginate.js";
import { SPARK_KEYS, type WatchState } from "./watch-view.js";

/** Sparklines from the stored history, the last rollouts and how many there were: the final frame's data. */
export async function loadFinishedRun(client: IcrlClient, state: WatchState, keepRollouts: number): Promise<void> {
  const runId = state.run.id;
  const series = await client.query(MetricSeriesDocument, { runId, keys: SPARK_KEYS, maxPoints: 60 });
  for (const s of series.metricSeries) state.seedSeries(s.key, s.points);
  const { rollouts, total } = await latestRollouts(client, runId, state.run.step, keepRollouts);
  for (const r of rollouts) state.onRollout(r);
  state.rolloutCount = total;
}

/** The last `keep` rollouts stored (the newest last) and how many there are. */
export async function latestRollouts(
  client: IcrlClient,
  runId: string,
  lastStep: number,
  keep: number,
): Promise<{ rollouts: RolloutFieldsFragment[]; total: number }> {
  const total = (await client.query(RolloutsDocument, { runId, first: 0 })).rollouts.totalCount;
  if (total === 0) return { rollouts: [], total };
  // Rollouts come in the order they were stored; the last ones are at the highest steps. Widen a
  // window of steps back from the run's last step until it holds enough, then keep its tail.
  let last: RolloutFieldsFragment[] = [];
  for (let width = 1, minStep = Number.POSITIVE_INFINITY; last.length < keep && minStep > 0; width *= 2) {
    minStep = Math.max(0, lastStep - width + 1);
    last = [];
    for await (const page of pages((after) => rolloutPage(client, runId, after, minStep))) last = [...last, ...page].slice(-keep);
  }
  return { rollouts: last, total };
}

/** Every metric point, page by page, in the order they were logged (their cursors ascending). */
export function metricHistory(client: IcrlClient, runId: string): AsyncGenerator<MetricPointFieldsFragment[]> {
  return pages((after) => client.query(MetricPointsDocument, { runId, first: 1000, after }).then((r) => r.metricPoints));
}

/** Every rollout, page by page, in the order they were stored. */
export function rolloutHistory(client: IcrlClient, runId: string): AsyncGenerator<RolloutFieldsFragment[]> {
  return pages((after) => rolloutPage(client, runId, after));
}

function rolloutPage(client: IcrlClient, runId: string, after: string | null, minStep?: number) {
  return client.query(RolloutsDocument, { runId, first: 200, after, ...(minStep ? { filter: { minStep } } : {}) }).then((r) => r.rollouts);
}
