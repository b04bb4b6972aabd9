// liveCursor: where each subscription starts when opened without `after`, read by the same tail
// functions the subscriptions use. A client that takes this cursor first and subscribes with it can
// lose its connection before the first event and still resume without a gap: without it, the only
// cursor it would know is the first event's.
import type { LiveStream, Resolvers } from "../../generated/graphql.js";
import { badInput, notFound } from "../../errors.js";
import { can, checkId } from "../guards.js";
import type { GraphQLContext } from "../context.js";
import { benchmarkItemSeq, jobsTail, metricsTail, rolloutsTail, runExists, runVersion } from "../../store/feed-tails.js";
import { studyCursor } from "../../studies/study-events.js";

const NEEDS_ID: Record<LiveStream, "Run" | "BenchmarkRun" | "Study" | null> = {
  ROLLOUTS: "Run",
  METRICS: "Run",
  RUN: "Run",
  BENCHMARK_PROGRESS: "BenchmarkRun",
  STUDY: "Study",
  JOBS: null,
};

async function requireId(ctx: GraphQLContext, stream: LiveStream, id: string | null | undefined): Promise<string> {
  const kind = NEEDS_ID[stream] ?? "Run";
  if (id == null) throw badInput(`liveCursor(stream: ${stream}) needs the ${kind}'s id.`, [{ path: "id", message: "required" }]);
  const checked = checkId(id, kind);
  const exists =
    kind === "Run"
      ? await runExists(ctx.pool, checked)
      : kind === "BenchmarkRun"
        ? Boolean(await ctx.prisma.benchmarkRun.findUnique({ where: { id: checked }, select: { id: true } }))
        : Boolean(await ctx.prisma.study.findUnique({ where: { id: checked }, select: { id: true } }));
  if (!exists) throw notFound(kind, id);
  return checked;
}

export const liveCursorResolvers: Resolvers = {
  Query: {
    liveCursor: async (_, { stream, id }, ctx) => {
      if (stream === "JOBS") {
        can(ctx, "worker");
        if (id != null) throw badInput("liveCursor(stream: JOBS) takes no id.", [{ path: "id", message: "not allowed" }]);
        return jobsTail(ctx.pool);
      }
      can(ctx, "read");
      const checked = await requireId(ctx, stream, id);
      switch (stream) {
        case "ROLLOUTS":
          return rolloutsTail(ctx.pool, checked);
        case "METRICS":
          return metricsTail(ctx.pool, checked);
        case "RUN":
          return runVersion(ctx.pool, checked);
        case "BENCHMARK_PROGRESS":
          return benchmarkItemSeq(ctx.pool, checked);
        case "STUDY":
          return studyCursor(ctx.pool, checked);
      }
    },
  },
};
