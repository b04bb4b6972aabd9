// Studies: arms x seeds over ordinary runs, with summaries computed from the runs' metric points
// (server/studies/). Every field derives from the runs, so a study is never out of date.
import type { Resolvers, StudyPoint } from "../../generated/graphql.js";
import { badInput, notFound } from "../../errors.js";
import type { Study } from "../../generated/prisma/client.js";
import { cancelStudy } from "../../studies/cancel-study.js";
import { createStudy } from "../../studies/create-study.js";
import { studyCurves } from "../../studies/curves.js";
import { studyMetricKeys } from "../../studies/metric-values.js";
import { studyChanges } from "../../studies/study-events.js";
import { loadStudyRuns, storedArms, studyProgress, studyStatus } from "../../studies/study-runs.js";
import { studySummary } from "../../studies/summary.js";
import type { PointChoice } from "../../studies/metric-values.js";
import { can, checkId, maybeId } from "../guards.js";
import { decodeCursor, pageSize, TIME_ID, toPage } from "../pagination.js";
import type { GraphQLContext } from "../context.js";

const MAX_CURVE_POINTS = 2000;

async function loadStudy(ctx: GraphQLContext, id: string): Promise<Study> {
  const study = await ctx.prisma.study.findUnique({ where: { id: checkId(id, "Study") } });
  if (!study) throw notFound("Study", id);
  return study;
}

function pointChoice(at: StudyPoint, step: number | null | undefined, higherIsBetter: boolean): PointChoice {
  if (at === "STEP") {
    if (step == null || step < 0)
      throw badInput("at: STEP needs a step (a non-negative integer).", [{ path: "step", message: "required with at: STEP" }]);
    return { at, step };
  }
  if (step != null) throw badInput(`step only applies to at: STEP (got at: ${at}).`, [{ path: "step", message: "only with at: STEP" }]);
  return at === "BEST" ? { at, higherIsBetter } : { at: "FINAL" };
}

export const studyResolvers: Resolvers = {
  Query: {
    study: async (_, { id }, ctx) => {
      can(ctx, "read");
      return ctx.prisma.study.findUnique({ where: { id: checkId(id, "Study") } });
    },
    studies: async (_, { first, after, experimentId }, ctx) => {
      can(ctx, "read");
      const take = pageSize(first);
      const where = experimentId ? { experimentId: checkId(experimentId, "Experiment") } : {};
      const c = decodeCursor(after, TIME_ID);
      const page = c ? { OR: [{ createdAt: { lt: new Date(c[0]) } }, { createdAt: new Date(c[0]), id: { lt: c[1] } }] } : {};
      const rows = await ctx.prisma.study.findMany({
        where: { AND: [where, page] },
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        take: take + 1,
      });
      return { ...toPage(rows, take, (r) => [r.createdAt.toISOString(), r.id]), totalCount: await ctx.prisma.study.count({ where }) };
    },
  },
  Mutation: {
    createStudy: async (_, { input }, ctx) => {
      can(ctx, "write");
      const id = await createStudy(ctx.prisma, ctx.pool, {
        ...input,
        experimentId: checkId(input.experimentId, "Experiment"),
        curriculumId: maybeId(input.curriculumId, "Curriculum"),
        arms: input.arms.map((a) => ({ name: a.name, patch: a.patch })),
      });
      return ctx.prisma.study.findUniqueOrThrow({ where: { id } });
    },
    cancelStudy: async (_, { id }, ctx) => {
      can(ctx, "write");
      const study = await loadStudy(ctx, id);
      const runs = await loadStudyRuns(ctx.prisma, study);
      const status = studyStatus(runs, study.cancelledAt);
      if (status !== "QUEUED" && status !== "RUNNING") throw badInput(`Study ${study.name} is already ${status}; nothing to cancel.`);
      await cancelStudy(ctx.pool, study.id);
      return ctx.prisma.study.findUniqueOrThrow({ where: { id: study.id } });
    },
  },
  Study: {
    experiment: (s, _, ctx) => ctx.prisma.experiment.findUniqueOrThrow({ where: { id: s.experimentId } }),
    arms: (s) => storedArms(s),
    runs: (s, _, ctx) => loadStudyRuns(ctx.prisma, s),
    status: async (s, _, ctx) => studyStatus(await loadStudyRuns(ctx.prisma, s), s.cancelledAt),
    progress: async (s, _, ctx) => studyProgress(await loadStudyRuns(ctx.prisma, s)),
    metricKeys: async (s, _, ctx) =>
      studyMetricKeys(
        ctx.pool,
        (await loadStudyRuns(ctx.prisma, s)).map((r) => r.id),
      ),
    summary: async (s, { metric, at, step, higherIsBetter, baseline }, ctx) => {
      const arms = storedArms(s);
      const base = baseline ?? s.baselineArm;
      if (!arms.some((a) => a.name === base)) {
        throw badInput(`No arm is named "${base}" (arms: ${arms.map((a) => a.name).join(", ")}).`, [{ path: "baseline", message: "unknown arm" }]);
      }
      const choice = pointChoice(at ?? "FINAL", step, higherIsBetter ?? true);
      return studySummary(ctx.pool, { arms, runs: await loadStudyRuns(ctx.prisma, s), metric, choice, baseline: base });
    },
    curves: async (s, { metric, maxPoints }, ctx) => {
      const n = maxPoints ?? 200;
      if (n < 1 || n > MAX_CURVE_POINTS)
        throw badInput(`maxPoints must be between 1 and ${MAX_CURVE_POINTS}.`, [{ path: "maxPoints", message: "out of range" }]);
      return studyCurves(ctx.pool, { arms: storedArms(s), runs: await loadStudyRuns(ctx.prisma, s), metric, maxPoints: n });
    },
  },
  Subscription: {
    studyUpdated: {
      subscribe: async (_, { studyId, after }, ctx) => {
        can(ctx, "read");
        const study = await loadStudy(ctx, studyId);
        const changes = studyChanges({
          pool: ctx.pool,
          hub: ctx.hub,
          studyId: study.id,
          after: after != null ? BigInt(after) : null,
          signal: ctx.signal,
        });
        return (async function* () {
          try {
            for await (const cursor of changes) {
              yield { studyUpdated: { cursor, study: await ctx.prisma.study.findUniqueOrThrow({ where: { id: study.id } }) } };
            }
          } finally {
            await changes.return(undefined);
          }
        })() as never;
      },
    },
  },
};
