import type { Resolvers } from "../../generated/graphql.js";
import { parseBenchmarkConfig, runConfigSchema, withRunPrompt } from "../../../contracts/index.js";
import { badInput, notFound } from "../../errors.js";
import { requestCancel } from "../../jobs/queue.js";
import { createBenchmarkRunWithJob } from "../../jobs/create-benchmark-run.js";
import { benchmarkItemsPage } from "../../store/benchmark-items.js";
import { countDatasetItems } from "../../store/dataset-items.js";
import { can, checkId, maybeId, requireName } from "../guards.js";
import { decodeCursor, pageSize, TIME_ID, toPage } from "../pagination.js";

export const benchmarkResolvers: Resolvers = {
  Query: {
    benchmarkRun: (_, { id }, ctx) => {
      can(ctx, "read");
      return ctx.prisma.benchmarkRun.findUnique({ where: { id: checkId(id, "BenchmarkRun") } });
    },
    benchmarkRuns: async (_, { first, after, datasetId }, ctx) => {
      can(ctx, "read");
      const take = pageSize(first);
      const where = datasetId ? { datasetId: checkId(datasetId, "Dataset") } : {};
      const c = decodeCursor(after, TIME_ID);
      const rows = await ctx.prisma.benchmarkRun.findMany({
        where: c ? { AND: [where, { OR: [{ createdAt: { lt: new Date(c[0]) } }, { createdAt: new Date(c[0]), id: { lt: c[1] } }] }] } : where,
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        take: take + 1,
      });
      return { ...toPage(rows, take, (r) => [r.createdAt.toISOString(), r.id]), totalCount: await ctx.prisma.benchmarkRun.count({ where }) };
    },
  },
  Mutation: {
    startBenchmarkRun: async (_, { input }, ctx) => {
      can(ctx, "write");
      const name = requireName(input.name, "Benchmark run");
      const dataset = await ctx.prisma.dataset.findUnique({ where: { id: checkId(input.datasetId, "Dataset") } });
      if (!dataset) throw badInput(`Dataset ${input.datasetId} does not exist.`, [{ path: "datasetId", message: "does not exist" }]);
      const adapterId = maybeId(input.adapterArtifactId, "Artifact");
      let rawConfig = (input.config ?? {}) as Record<string, unknown>;
      if (adapterId) {
        const a = await ctx.prisma.artifact.findUnique({ where: { id: adapterId } });
        if (!a) throw badInput(`Artifact ${adapterId} does not exist.`, [{ path: "adapterArtifactId", message: "does not exist" }]);
        if (a.kind !== "ADAPTER")
          throw badInput(`Artifact ${adapterId} is a ${a.kind}, not an ADAPTER.`, [
            { path: "adapterArtifactId", message: "must be an ADAPTER artifact" },
          ]);
        // A training run's adapter is evaluated under the prompt it learned, unless the config names one.
        const run = a.runId ? await ctx.prisma.run.findUnique({ where: { id: a.runId } }) : null;
        const runConfig = run ? runConfigSchema.safeParse(run.config) : null;
        if (runConfig?.success && typeof rawConfig === "object" && !Array.isArray(rawConfig)) rawConfig = withRunPrompt(rawConfig, runConfig.data);
      }
      if (!input.model.trim()) throw badInput("model must name the GGUF file the worker loads.", [{ path: "model", message: "must not be empty" }]);
      const parsed = parseBenchmarkConfig(rawConfig);
      if (!parsed.success) {
        const fieldErrors = parsed.error.issues.map((i) => ({ path: ["config", ...i.path].join("."), message: i.message }));
        throw badInput(`Invalid benchmark config: ${fieldErrors.map((e) => `${e.path}: ${e.message}`).join("; ")}`, fieldErrors);
      }
      const config = parsed.data;
      const available = await countDatasetItems(ctx.pool, dataset.id, config.split);
      if (available === 0)
        throw badInput(`Dataset ${dataset.name} has no items${config.split ? ` in split ${config.split}` : ""}.`, [
          { path: "config.split", message: "no items" },
        ]);
      const id = await createBenchmarkRunWithJob(ctx.pool, {
        name,
        datasetId: dataset.id,
        model: input.model,
        adapterArtifactId: adapterId ?? null,
        config,
        total: Math.min(available, config.limit ?? available),
      });
      return ctx.prisma.benchmarkRun.findUniqueOrThrow({ where: { id } });
    },
    cancelBenchmarkRun: async (_, { id }, ctx) => {
      can(ctx, "write");
      const run = await ctx.prisma.benchmarkRun.findUnique({ where: { id: checkId(id, "BenchmarkRun") } });
      if (!run) throw notFound("BenchmarkRun", id);
      if (["SUCCEEDED", "FAILED", "CANCELLED"].includes(run.status)) throw badInput(`Benchmark run ${id} already finished (${run.status}).`);
      await requestCancel(ctx.pool, { benchmarkRunId: id });
      return ctx.prisma.benchmarkRun.findUniqueOrThrow({ where: { id } });
    },
  },
  BenchmarkRun: {
    dataset: (b, _, ctx) => ctx.prisma.dataset.findUniqueOrThrow({ where: { id: b.datasetId as string } }),
    adapterArtifact: (b, _, ctx) => (b.adapterArtifactId ? ctx.prisma.artifact.findUnique({ where: { id: b.adapterArtifactId as string } }) : null),
    items: (b, { first, after, minScore, maxScore }, ctx) => benchmarkItemsPage(ctx.pool, b.id as string, { minScore, maxScore }, first, after),
  },
};
