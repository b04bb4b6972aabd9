// A run's rollouts and metric points: pages, single rollouts and downsampled series.
import type { Resolvers } from "../../generated/graphql.js";
import { badInput } from "../../errors.js";
import { metricSeries, seriesPoints, type Series } from "../../metrics/series.js";
import { fetchRollout, rolloutPage } from "../../store/rollouts.js";
import { metricPointsPage } from "../../store/metric-points.js";
import { can, checkId } from "../guards.js";

export const rolloutResolvers: Resolvers = {
  Query: {
    rollouts: (_, { runId, first, after, filter }, ctx) => {
      can(ctx, "read");
      return rolloutPage(ctx.pool, checkId(runId, "Run"), first, after, filter);
    },
    rollout: async (_, { id }, ctx) => {
      can(ctx, "read");
      if (!/^\d+$/.test(id)) throw badInput(`Rollout id ${JSON.stringify(id)} is not valid (expected digits).`);
      return fetchRollout(ctx.pool, id);
    },
    metricPoints: (_, { runId, keys, first, after }, ctx) => {
      can(ctx, "read");
      return metricPointsPage(ctx.pool, checkId(runId, "Run"), keys, first, after);
    },
    metricSeries: async (_, { runId, keys, maxPoints, minStep, maxStep }, ctx) => {
      can(ctx, "read");
      checkId(runId, "Run");
      if (keys.length > 50) throw badInput("Ask for at most 50 metric keys per metricSeries call.");
      const mp = maxPoints ?? 1000;
      if (mp < 2 || mp > 10_000) throw badInput("maxPoints must be between 2 and 10000.", [{ path: "maxPoints", message: "between 2 and 10000" }]);
      return metricSeries(ctx.pool, runId, keys, { maxPoints: mp, minStep, maxStep });
    },
  },
  Run: {
    rollouts: (run, { first, after, filter }, ctx) => rolloutPage(ctx.pool, run.id as string, first, after, filter),
    metrics: (run, { keys, first, after }, ctx) => metricPointsPage(ctx.pool, run.id as string, keys, first, after),
  },
  // Series are built as columns (server/metrics/series.ts); one object per point only when asked.
  MetricSeries: {
    points: (s) => seriesPoints((s as Series).columns),
  },
};
