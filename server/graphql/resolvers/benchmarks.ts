import type { Resolvers } from "../../generated/graphql.js";
import { benchmarkConfigSchema } from "../../../contracts/index.js";
import { badInput, notFound } from "../../errors.js";
import { enqueueJob, inTransaction, requestCancel } from "../../jobs/queue.js";
import { can, checkId, maybeId } from "../guards.js";
import { decodeCursor, encodeCursor, pageSize, toPage } from "../pagination.js";
import type { GraphQLContext } from "../context.js";

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

export async function fetchBenchmarkItemsAfter(ctx: Pick<GraphQLContext, "pool">, id: string, after: bigint, limit: number) {
  const res = await ctx.pool.query(`SELECT * FROM benchmark_items WHERE benchmark_run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, [
    id,
    String(after),
    limit,
  ]);
  return (res.rows as BenchmarkItemDbRow[]).map(benchmarkItemFromRow);
}

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
      const c = decodeCursor(after);
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
      const dataset = await ctx.prisma.dataset.findUnique({ where: { id: checkId(input.datasetId, "Dataset") } });
      if (!dataset) throw badInput(`Dataset ${input.datasetId} does not exist.`, [{ path: "datasetId", message: "does not exist" }]);
      const adapterId = maybeId(input.adapterArtifactId, "Artifact");
      if (adapterId) {
        const a = await ctx.prisma.artifact.findUnique({ where: { id: adapterId } });
        if (!a) throw badInput(`Artifact ${adapterId} does not exist.`, [{ path: "adapterArtifactId", message: "does not exist" }]);
        if (a.kind !== "ADAPTER")
          throw badInput(`Artifact ${adapterId} is a ${a.kind}, not an ADAPTER.`, [
            { path: "adapterArtifactId", message: "must be an ADAPTER artifact" },
          ]);
      }
      if (!input.model.trim()) throw badInput("model must name the GGUF file the worker loads.", [{ path: "model", message: "must not be empty" }]);
      const parsed = benchmarkConfigSchema.safeParse(input.config ?? {});
      if (!parsed.success) {
        const fieldErrors = parsed.error.issues.map((i) => ({ path: ["config", ...i.path].join("."), message: i.message }));
        throw badInput(`Invalid benchmark config: ${fieldErrors.map((e) => `${e.path}: ${e.message}`).join("; ")}`, fieldErrors);
      }
      const config = parsed.data;
      const splitCount = await ctx.pool.query(
        `SELECT count(*)::int AS n FROM dataset_items WHERE dataset_id = $1 AND ($2::text IS NULL OR split = $2)`,
        [dataset.id, config.split ?? null],
      );
      const available = splitCount.rows[0].n as number;
      if (available === 0)
        throw badInput(`Dataset ${dataset.name} has no items${config.split ? ` in split ${config.split}` : ""}.`, [
          { path: "config.split", message: "no items" },
        ]);
      const total = Math.min(available, config.limit ?? available);
      const id = await inTransaction(ctx.pool, async (c) => {
        const res = await c.query(
          `INSERT INTO benchmark_runs (name, dataset_id, model, adapter_artifact_id, config, total) VALUES ($1, $2, $3, $4, $5::jsonb, $6) RETURNING id`,
          [input.name, dataset.id, input.model, adapterId ?? null, JSON.stringify(config), total],
        );
        await enqueueJob(c, { kind: "EVAL", benchmarkRunId: res.rows[0].id, requirements: config.requirements });
        return res.rows[0].id as string;
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
    items: async (b, { first, after, minScore, maxScore }, ctx) => {
      const take = pageSize(first);
      const c = decodeCursor(after);
      const res = await ctx.pool.query(
        `SELECT * FROM benchmark_items WHERE benchmark_run_id = $1 AND item_index > $2
           AND ($3::float8 IS NULL OR score >= $3) AND ($4::float8 IS NULL OR score <= $4)
         ORDER BY item_index LIMIT $5`,
        [b.id, c ? Number(c[0]) : -1, minScore ?? null, maxScore ?? null, take + 1],
      );
      const count = await ctx.pool.query(
        `SELECT count(*)::int AS n FROM benchmark_items WHERE benchmark_run_id = $1
           AND ($2::float8 IS NULL OR score >= $2) AND ($3::float8 IS NULL OR score <= $3)`,
        [b.id, minScore ?? null, maxScore ?? null],
      );
      const rows = (res.rows as BenchmarkItemDbRow[]).map(benchmarkItemFromRow);
      const hasNextPage = rows.length > take;
      const nodes = hasNextPage ? rows.slice(0, take) : rows;
      const last = nodes[nodes.length - 1];
      return { nodes, pageInfo: { endCursor: last ? encodeCursor([last.itemIndex]) : null, hasNextPage }, totalCount: count.rows[0].n as number };
    },
  },
};
