// Subscriptions: every event carries a cursor; `after` replays what a reconnecting client missed.
// Streams come from the shared FeedRegistry (server/events/feed.ts), which reads rows back from
// Postgres when LISTEN/NOTIFY wakes it.
import type { Resolvers, RolloutEventFilter } from "../../generated/graphql.js";
import { notFound } from "../../errors.js";
import { can, checkId } from "../guards.js";
import type { GraphQLContext } from "../context.js";
import { fetchRolloutsAfter } from "../../store/rollouts.js";
import { fetchMetricPointsAfter } from "../../store/metric-points.js";
import { fetchBenchmarkItemsAfter } from "../../store/benchmark-items.js";
import { fetchQueuedJobsAfter } from "../../store/jobs.js";
import { benchmarkItemSeq, jobsTail, metricsTail, rolloutsTail, runExists, runVersion } from "../../store/feed-tails.js";
import { sharedEvent } from "../../events/subscription-delivery.js";
import { batchOptions } from "../batch-options.js";

async function* mapStream<T, U>(source: AsyncGenerator<T>, fn: (t: T) => U | Promise<U>): AsyncGenerator<U> {
  try {
    for await (const item of source) yield await fn(item);
  } finally {
    await source.return(undefined);
  }
}

/** Group rows that arrive together so one event carries a batch (metrics, benchmark items). */
async function* batched<T extends { cursor: bigint }>(source: AsyncGenerator<T>, max: number): AsyncGenerator<T[]> {
  // The feed yields rows synchronously from one fetch; collect until the source would block.
  const it = source[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<T>> | null = null;
  try {
    for (;;) {
      const first = await (pending ?? it.next());
      pending = null;
      if (first.done) return;
      const batch = [first.value];
      while (batch.length < max) {
        pending = it.next();
        const winner = await Promise.race([pending, new Promise<"wait">((r) => setImmediate(() => r("wait")))]);
        if (winner === "wait") break;
        pending = null;
        if (winner.done) {
          yield batch;
          return;
        }
        batch.push(winner.value);
      }
      yield batch;
    }
  } finally {
    await it.return?.(undefined);
  }
}

function matches(
  filter: RolloutEventFilter | null | undefined,
  r: { stage: number; reward: number; toolCallsValid: number; toolCallsInvalid: number },
) {
  if (!filter) return true;
  if (filter.stage != null && r.stage !== filter.stage) return false;
  if (filter.minReward != null && r.reward < filter.minReward) return false;
  if (filter.maxReward != null && r.reward > filter.maxReward) return false;
  if (filter.hasToolCall != null && r.toolCallsValid + r.toolCallsInvalid > 0 !== filter.hasToolCall) return false;
  return true;
}

async function requireRun(ctx: GraphQLContext, runId: string) {
  can(ctx, "read");
  if (!(await runExists(ctx.pool, checkId(runId, "Run")))) throw notFound("Run", runId);
}

export const subscriptionResolvers: Resolvers = {
  Subscription: {
    rolloutAdded: {
      subscribe: async (_, { runId, filter, after }, ctx) => {
        await requireRun(ctx, runId);
        const rows = ctx.feeds.stream({
          topic: `rollouts:${runId}`,
          after: after as bigint | null | undefined,
          tail: () => rolloutsTail(ctx.pool, runId),
          fetch: (a, limit) => fetchRolloutsAfter(ctx.pool, runId, a, limit),
          signal: ctx.signal,
        });
        // The cursor advances over filtered-out rows too, so a resume never re-reads them.
        return (async function* () {
          // One event object per row for all subscribers: they then share its execution.
          for await (const r of rows)
            if (matches(filter, r)) yield sharedEvent(r, "rolloutAdded", () => ({ rolloutAdded: { cursor: r.cursor, rollout: r } }));
        })() as never;
      },
    },
    rolloutsAdded: {
      subscribe: async (_, { runId, filter, after, maxBatch, maxDelayMs }, ctx) => {
        const bounds = batchOptions(maxBatch, maxDelayMs);
        await requireRun(ctx, runId);
        const batches = ctx.feeds.batches({
          topic: `rollouts:${runId}`,
          after: after as bigint | null | undefined,
          tail: () => rolloutsTail(ctx.pool, runId),
          fetch: (a, limit) => fetchRolloutsAfter(ctx.pool, runId, a, limit),
          signal: ctx.signal,
          ...bounds,
        });
        // The batch cursor is the last row read, filtered out or not, so a resume never re-reads them.
        return (async function* () {
          // Subscribers woken by the same commits usually read the same rows from the shared feed:
          // they then get one event object, and share its execution (sharedEvent).
          const filterKey = JSON.stringify(filter ?? null);
          for await (const batch of batches) {
            const last = batch[batch.length - 1];
            const event = sharedEvent(last, `rolloutsAdded:${batch[0].cursor}:${filterKey}`, () => ({
              rolloutsAdded: { cursor: last.cursor, rollouts: batch.filter((r) => matches(filter, r)) },
            }));
            if (event.rolloutsAdded.rollouts.length) yield event;
          }
        })() as never;
      },
    },
    metricsBatch: {
      subscribe: async (_, { runId, keys, after, maxBatch, maxDelayMs }, ctx) => {
        const bounds = batchOptions(maxBatch, maxDelayMs);
        await requireRun(ctx, runId);
        const batches = ctx.feeds.batches({
          topic: `metrics:${runId}`,
          after: after as bigint | null | undefined,
          tail: () => metricsTail(ctx.pool, runId),
          fetch: (a, limit) => fetchMetricPointsAfter(ctx.pool, runId, a, limit),
          signal: ctx.signal,
          ...bounds,
        });
        const wanted = keys?.length ? new Set(keys) : null;
        return (async function* () {
          const keysKey = JSON.stringify(keys ?? null);
          for await (const batch of batches) {
            const last = batch[batch.length - 1];
            const event = sharedEvent(last, `metricsBatch:${batch[0].cursor}:${keysKey}`, () => ({
              metricsBatch: { cursor: last.cursor, points: wanted ? batch.filter((p) => wanted.has(p.key)) : batch },
            }));
            if (event.metricsBatch.points.length) yield event;
          }
        })() as never;
      },
    },
    metricsAdded: {
      subscribe: async (_, { runId, keys, after }, ctx) => {
        await requireRun(ctx, runId);
        const rows = ctx.feeds.stream({
          topic: `metrics:${runId}`,
          after: after as bigint | null | undefined,
          tail: () => metricsTail(ctx.pool, runId),
          fetch: (a, limit) => fetchMetricPointsAfter(ctx.pool, runId, a, limit),
          signal: ctx.signal,
        });
        const wanted = keys?.length ? new Set(keys) : null;
        return (async function* () {
          for await (const batch of batched(rows, 1000)) {
            const points = wanted ? batch.filter((p) => wanted.has(p.key)) : batch;
            if (points.length) yield { metricsAdded: { cursor: batch[batch.length - 1].cursor, points } };
          }
        })() as never;
      },
    },
    runUpdated: {
      subscribe: async (_, { runId, after }, ctx) => {
        await requireRun(ctx, runId);
        const rows = ctx.feeds.stream({
          topic: `run:${runId}`,
          after: after != null ? BigInt(after) : undefined,
          tail: () => runVersion(ctx.pool, runId),
          fetch: async (a) => {
            const run = await ctx.prisma.run.findUnique({ where: { id: runId } });
            return run && BigInt(run.version) > a ? [{ cursor: BigInt(run.version), run }] : [];
          },
          signal: ctx.signal,
        });
        return mapStream(rows, (r) => ({ runUpdated: { cursor: Number(r.cursor), run: r.run } })) as never;
      },
    },
    benchmarkProgress: {
      subscribe: async (_, { benchmarkRunId, after }, ctx) => {
        can(ctx, "read");
        const id = checkId(benchmarkRunId, "BenchmarkRun");
        if (!(await ctx.prisma.benchmarkRun.findUnique({ where: { id } }))) throw notFound("BenchmarkRun", id);
        // Cursor = the run's item_seq, which item batches and status changes both advance; a status
        // change with no new items arrives as an event with an empty items list.
        type Row = { cursor: bigint; item?: Awaited<ReturnType<typeof fetchBenchmarkItemsAfter>>[number] };
        const rows = ctx.feeds.stream<Row>({
          topic: `bench:${id}`,
          after: after as bigint | null | undefined,
          tail: () => benchmarkItemSeq(ctx.pool, id),
          fetch: async (a, limit) => {
            const items = await fetchBenchmarkItemsAfter(ctx.pool, id, a, limit);
            if (items.length) return items.map((item) => ({ cursor: item.cursor, item }));
            const seq = await benchmarkItemSeq(ctx.pool, id);
            return seq > a ? [{ cursor: seq }] : [];
          },
          signal: ctx.signal,
        });
        return (async function* () {
          for await (const batch of batched(rows, 500)) {
            const run = await ctx.prisma.benchmarkRun.findUniqueOrThrow({ where: { id } });
            const items = batch.flatMap((r) => (r.item ? [r.item] : []));
            yield { benchmarkProgress: { cursor: batch[batch.length - 1].cursor, benchmarkRun: run, items } };
          }
        })() as never;
      },
    },
    jobAvailable: {
      subscribe: async (_, { after }, ctx) => {
        const p = can(ctx, "worker");
        void p;
        const rows = ctx.feeds.stream({
          topic: "jobs",
          after: after as bigint | null | undefined,
          tail: () => jobsTail(ctx.pool),
          fetch: (a, limit) => fetchQueuedJobsAfter(ctx.pool, a, limit),
          signal: ctx.signal,
        });
        return mapStream(rows, (r) => ({ jobAvailable: { cursor: r.cursor, job: r.job } })) as never;
      },
    },
  },
};
