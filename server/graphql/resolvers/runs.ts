import type { Resolvers } from "../../generated/graphql.js";
import { applyConfigPatch, validateRunConfig, type RunConfig } from "../../../contracts/index.js";
import { badInput, notFound, type FieldError } from "../../errors.js";
import { requestCancel } from "../../jobs/queue.js";
import { createRunWithJob, type NewRun } from "../../jobs/create-run.js";
import { requeueRun } from "../../jobs/requeue-run.js";
import { checkRunReferences } from "../../jobs/run-references.js";
import { latestMetricPoints, metricKeys } from "../../store/metric-points.js";
import { can, checkId, maybeId, requireName } from "../guards.js";
import { decodeCursor, pageSize, TIME_ID, toPage } from "../pagination.js";
import type { GraphQLContext } from "../context.js";

const TERMINAL = ["SUCCEEDED", "FAILED", "CANCELLED"];

async function validateForCreate(ctx: GraphQLContext, config: unknown, curriculumId?: string | null): Promise<RunConfig> {
  const parsed = validateRunConfig(config);
  if (!parsed.ok) {
    throw badInput(`Invalid run config: ${parsed.errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`, parsed.errors);
  }
  const errors = await checkRunReferences(ctx.prisma, parsed.config, curriculumId);
  if (errors.length) throw badInput(`Invalid run config: ${errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`, errors);
  return parsed.config;
}

async function insertRunWithJob(ctx: GraphQLContext, run: NewRun) {
  const id = await createRunWithJob(ctx.pool, run);
  return ctx.prisma.run.findUniqueOrThrow({ where: { id } });
}

async function loadRun(ctx: GraphQLContext, id: string) {
  const run = await ctx.prisma.run.findUnique({ where: { id: checkId(id, "Run") } });
  if (!run) throw notFound("Run", id);
  return run;
}

function runOrder(after: string | null | undefined) {
  const c = decodeCursor(after, TIME_ID);
  return c ? { OR: [{ createdAt: { lt: new Date(c[0]) } }, { createdAt: new Date(c[0]), id: { lt: c[1] } }] } : {};
}

export const runResolvers: Resolvers = {
  Query: {
    run: async (_, { id }, ctx) => {
      can(ctx, "read");
      return ctx.prisma.run.findUnique({ where: { id: checkId(id, "Run") } });
    },
    runs: async (_, { first, after, filter }, ctx) => {
      can(ctx, "read");
      const take = pageSize(first);
      const where = {
        ...(filter?.experimentId ? { experimentId: checkId(filter.experimentId, "Experiment") } : {}),
        ...(filter?.studyId ? { studyId: checkId(filter.studyId, "Study") } : {}),
        ...(filter?.arm ? { arm: filter.arm } : {}),
        ...(filter?.status?.length ? { status: { in: filter.status } } : {}),
        ...(filter?.nameContains ? { name: { contains: filter.nameContains, mode: "insensitive" as const } } : {}),
      };
      const rows = await ctx.prisma.run.findMany({
        where: { AND: [where, runOrder(after)] },
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        take: take + 1,
      });
      const page = toPage(rows, take, (r) => [r.createdAt.toISOString(), r.id]);
      return { ...page, totalCount: await ctx.prisma.run.count({ where }) };
    },
  },
  Mutation: {
    createRun: async (_, { experimentId, name, config, curriculumId }, ctx) => {
      can(ctx, "write");
      const experiment = await ctx.prisma.experiment.findUnique({ where: { id: checkId(experimentId, "Experiment") } });
      if (!experiment) throw notFound("Experiment", experimentId);
      if (experiment.archived) throw badInput(`Experiment ${experiment.name} is archived; unarchive it to add runs.`);
      if (!name.trim()) throw badInput("Run name must not be empty.", [{ path: "name", message: "must not be empty" }]);
      const cid = maybeId(curriculumId, "Curriculum");
      if (cid && !(await ctx.prisma.curriculum.findUnique({ where: { id: cid } }))) {
        throw badInput(`Curriculum ${cid} does not exist.`, [{ path: "curriculumId", message: "does not exist" }]);
      }
      const parsed = await validateForCreate(ctx, config, cid);
      return insertRunWithJob(ctx, { experimentId, name: name.trim(), config: parsed, curriculumId: cid });
    },
    cancelRun: async (_, { id }, ctx) => {
      can(ctx, "write");
      const run = await loadRun(ctx, id);
      if (TERMINAL.includes(run.status)) throw badInput(`Run ${id} already finished with status ${run.status}; nothing to cancel.`);
      await requestCancel(ctx.pool, { runId: id });
      return ctx.prisma.run.findUniqueOrThrow({ where: { id } });
    },
    resumeRun: async (_, { id }, ctx) => {
      can(ctx, "write");
      const run = await loadRun(ctx, id);
      if (run.status !== "FAILED" && run.status !== "CANCELLED") {
        throw badInput(`Only FAILED or CANCELLED runs can be resumed; run ${id} is ${run.status}.`);
      }
      await requeueRun(ctx.pool, id, run.config as RunConfig);
      return ctx.prisma.run.findUniqueOrThrow({ where: { id } });
    },
    forkRun: async (_, { id, name: given, step, configPatch }, ctx) => {
      can(ctx, "write");
      const name = requireName(given, "Run");
      const parent = await loadRun(ctx, id);
      const checkpoints = await ctx.prisma.artifact.findMany({
        where: { runId: id, kind: "CHECKPOINT", ...(step != null ? { step: { lte: step } } : {}) },
        orderBy: { step: "desc" },
        take: 1,
      });
      if (!checkpoints.length) {
        throw badInput(`Run ${id} has no checkpoint${step != null ? ` at or before step ${step}` : ""} to fork from.`);
      }
      const merged = applyConfigPatch(parent.config as Record<string, unknown>, (configPatch ?? {}) as Record<string, unknown>);
      const parsed = await validateForCreate(ctx, merged, parent.curriculumId);
      // The fork starts from the parent's learner state: a different base model or LoRA shape
      // cannot load it, so say so now instead of failing on a worker.
      const before = validateRunConfig(parent.config);
      if (before.ok) {
        const clashes: FieldError[] = [];
        if (parsed.model.path !== before.config.model.path)
          clashes.push({ path: "model.path", message: "a fork keeps its parent's model (the checkpoint holds weights for it)" });
        if (JSON.stringify(parsed.lora) !== JSON.stringify(before.config.lora))
          clashes.push({ path: "lora", message: "a fork keeps its parent's LoRA rank, alpha and targets" });
        if (clashes.length) throw badInput(`Invalid configPatch: ${clashes.map((e) => `${e.path}: ${e.message}`).join("; ")}`, clashes);
      }
      return insertRunWithJob(ctx, {
        experimentId: parent.experimentId,
        name,
        config: parsed,
        curriculumId: parent.curriculumId,
        parentRunId: id,
        forkStep: checkpoints[0].step,
      });
    },
  },
  Run: {
    experiment: (run, _, ctx) => ctx.prisma.experiment.findUniqueOrThrow({ where: { id: run.experimentId } }),
    curriculum: (run, _, ctx) => (run.curriculumId ? ctx.prisma.curriculum.findUnique({ where: { id: run.curriculumId } }) : null),
    parentRun: (run, _, ctx) => (run.parentRunId ? ctx.prisma.run.findUnique({ where: { id: run.parentRunId } }) : null),
    metricKeys: (run, _, ctx) => metricKeys(ctx.pool, run.id),
    latestMetrics: (run, { keys }, ctx) => latestMetricPoints(ctx.pool, run.id, keys),
    artifacts: (run, { kind }, ctx) =>
      ctx.prisma.artifact.findMany({ where: { runId: run.id, ...(kind ? { kind } : {}) }, orderBy: [{ step: "asc" }, { createdAt: "asc" }] }),
    jobs: (run, _, ctx) => ctx.prisma.job.findMany({ where: { runId: run.id }, orderBy: { createdAt: "asc" } }),
    study: (run, _, ctx) => (run.studyId ? ctx.prisma.study.findUnique({ where: { id: run.studyId } }) : null),
  },
};
