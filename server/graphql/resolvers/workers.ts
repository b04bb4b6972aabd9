// The worker protocol: register, claim, heartbeat, report, finish. A worker token acts only on jobs
// its worker currently holds, and on those jobs' runs.
import type { Resolvers } from "../../generated/graphql.js";
import { apiError, badInput } from "../../errors.js";
import { createApiKey } from "../../auth/keys.js";
import { insertRollouts, insertRolloutsForHeldJob } from "../../ingest/rollouts.js";
import { insertMetrics } from "../../ingest/metrics.js";
import { ROLLUP_WIDTHS } from "../../metrics/rollup.js";
import { insertBenchmarkItems } from "../../ingest/benchmark-items.js";
import { assertHoldsJob, claimJob, finishJob, heartbeat, inTransaction, touchRun, type JobRow } from "../../jobs/queue.js";
import { can, checkId, workerOf } from "../guards.js";
import type { GraphQLContext } from "../context.js";
import { datasetItemsPage } from "./datasets.js";
import { jobFromRow } from "./admin.js";

/**
 * Size of `value` as UTF-8 JSON, not counting escape characters: enough for a size limit, and far
 * cheaper than serialising a multi-megabyte batch a second time just to measure it.
 */
function jsonBytes(value: unknown): number {
  if (typeof value === "string") return Buffer.byteLength(value) + 2;
  if (value === null || typeof value !== "object") return String(value).length;
  let n = 2;
  if (Array.isArray(value)) {
    for (const v of value) n += jsonBytes(v) + 1;
    return n;
  }
  for (const [k, v] of Object.entries(value)) if (v !== undefined) n += Buffer.byteLength(k) + 4 + jsonBytes(v);
  return n;
}

function checkBatch(ctx: GraphQLContext, items: unknown[], what: string) {
  const { maxBatchItems, maxBatchBytes } = ctx.config;
  if (items.length === 0) throw badInput(`Send at least one ${what}.`);
  if (items.length > maxBatchItems) {
    throw apiError("PAYLOAD_TOO_LARGE", `Too many ${what}s in one call: ${items.length} > ${maxBatchItems}. Split the batch.`);
  }
  const bytes = jsonBytes(items);
  if (bytes > maxBatchBytes) {
    throw apiError("PAYLOAD_TOO_LARGE", `Batch of ${what}s is ${bytes} bytes > ${maxBatchBytes}. Split it into smaller calls.`);
  }
}

function requireRunJob(job: JobRow): string {
  if (!job.run_id) throw badInput(`Job ${job.id} is a ${job.kind} job without a training run.`);
  return job.run_id;
}

const artifactRef = (a: { id: string; step: number | null; sha256: string; bytes: bigint; name: string }) => ({
  id: a.id,
  step: a.step,
  sha256: a.sha256,
  bytes: String(a.bytes),
  name: a.name,
  downloadPath: `/artifacts/${a.id}`,
});

/** Everything a worker needs to run a job, so it never has to read other entities itself. */
async function jobContext(ctx: GraphQLContext, job: JobRow): Promise<Record<string, unknown>> {
  if (job.run_id) {
    const run = await ctx.prisma.run.findUniqueOrThrow({ where: { id: job.run_id } });
    const config = run.config as Record<string, any>;
    const curriculum = run.curriculumId ? await ctx.prisma.curriculum.findUnique({ where: { id: run.curriculumId } }) : null;
    const demoSetId = config.demonstrations?.setId ?? curriculum?.demonstrationSetId ?? null;
    const demonstrationSet = demoSetId ? await ctx.prisma.demonstrationSet.findUnique({ where: { id: demoSetId } }) : null;
    const dataset = await ctx.prisma.dataset.findUnique({ where: { id: config.dataset.id } });
    // Resume from this run's own latest checkpoint; a fresh fork starts from its parent's.
    const own = await ctx.prisma.artifact.findFirst({ where: { runId: run.id, kind: "CHECKPOINT" }, orderBy: { step: "desc" } });
    const fromParent =
      !own && run.parentRunId
        ? await ctx.prisma.artifact.findFirst({
            where: { runId: run.parentRunId, kind: "CHECKPOINT", ...(run.forkStep != null ? { step: { lte: run.forkStep } } : {}) },
            orderBy: { step: "desc" },
          })
        : null;
    const checkpoint = own ?? fromParent;
    return {
      kind: "TRAIN",
      run: {
        id: run.id,
        name: run.name,
        config,
        seed: run.seed,
        step: run.step,
        stage: run.stage,
        parentRunId: run.parentRunId,
        forkStep: run.forkStep,
      },
      curriculum: curriculum
        ? { id: curriculum.id, name: curriculum.name, stages: curriculum.stages, advanceRules: curriculum.advanceRules }
        : (config.curriculum ?? null),
      demonstrationSet: demonstrationSet
        ? { id: demonstrationSet.id, name: demonstrationSet.name, task: demonstrationSet.task, items: demonstrationSet.items }
        : null,
      dataset: dataset ? { id: dataset.id, name: dataset.name, kind: dataset.kind, itemCount: dataset.itemCount, splits: dataset.splits } : null,
      checkpoint: checkpoint ? { ...artifactRef(checkpoint), fromRunId: checkpoint.runId } : null,
    };
  }
  const bench = await ctx.prisma.benchmarkRun.findUniqueOrThrow({ where: { id: job.benchmark_run_id! } });
  const dataset = await ctx.prisma.dataset.findUniqueOrThrow({ where: { id: bench.datasetId } });
  const adapter = bench.adapterArtifactId ? await ctx.prisma.artifact.findUnique({ where: { id: bench.adapterArtifactId } }) : null;
  const config = bench.config as Record<string, any>;
  const demonstrationSet = config.demonstrationSetId
    ? await ctx.prisma.demonstrationSet.findUnique({ where: { id: config.demonstrationSetId } })
    : null;
  // Scores of stored items too: a resumed job's aggregate must cover the whole run, and a worker
  // token cannot read benchmark items otherwise.
  const done = await ctx.pool.query("SELECT item_index, score, metrics FROM benchmark_items WHERE benchmark_run_id = $1 ORDER BY item_index", [
    bench.id,
  ]);
  return {
    kind: "EVAL",
    benchmarkRun: { id: bench.id, name: bench.name, model: bench.model, config, total: bench.total },
    dataset: { id: dataset.id, name: dataset.name, kind: dataset.kind, itemCount: dataset.itemCount, splits: dataset.splits },
    adapter: adapter ? artifactRef(adapter) : null,
    demonstrationSet: demonstrationSet
      ? { id: demonstrationSet.id, name: demonstrationSet.name, task: demonstrationSet.task, items: demonstrationSet.items }
      : null,
    completedItemIndexes: done.rows.map((r) => r.item_index as number),
    completedItems: done.rows.map((r) => ({ itemIndex: r.item_index as number, score: r.score as number, metrics: r.metrics })),
  };
}

export const workerResolvers: Resolvers = {
  Query: {
    jobDatasetItems: async (_, { jobId, datasetId, split, first, after }, ctx) => {
      const workerId = workerOf(ctx);
      const job = await assertHoldsJob(ctx.pool, checkId(jobId, "Job"), workerId);
      const ctxData = await jobContext(ctx, job);
      const allowed = (ctxData.dataset as { id?: string } | null)?.id;
      if (allowed !== checkId(datasetId, "Dataset")) throw apiError("FORBIDDEN", `Job ${jobId} does not use dataset ${datasetId}.`);
      return datasetItemsPage(ctx, datasetId, split, first, after);
    },
  },
  Mutation: {
    registerWorker: async (_, { name, capabilities }, ctx) => {
      const p = can(ctx, "worker");
      if (p.workerId) throw apiError("FORBIDDEN", "This token already belongs to a registered worker; register with a worker registration key.");
      if (!name.trim()) throw badInput("Worker name must not be empty.");
      if (!capabilities || typeof capabilities !== "object" || Array.isArray(capabilities)) {
        throw badInput('capabilities must be an object, e.g. {backend: "cpu", memoryMb: 16000, threads: 2}.');
      }
      const worker = await ctx.prisma.worker.create({ data: { name: name.trim(), capabilities: capabilities as object } });
      const { secret } = await createApiKey(ctx.prisma, { name: `worker ${worker.name}`, role: "WORKER", workerId: worker.id });
      return { worker, token: secret };
    },
    claimJob: async (_, { kinds }, ctx) => {
      const workerId = workerOf(ctx);
      const worker = await ctx.prisma.worker.findUniqueOrThrow({ where: { id: workerId } });
      const job = await claimJob(
        ctx.pool,
        { id: worker.id, capabilities: worker.capabilities as Record<string, unknown> },
        { kinds, leaseSeconds: ctx.config.leaseSeconds },
      );
      if (!job) return null;
      return { job: jobFromRow(job), context: await jobContext(ctx, job) };
    },
    heartbeat: (_, { jobId }, ctx) => heartbeat(ctx.pool, checkId(jobId, "Job"), workerOf(ctx), ctx.config.leaseSeconds),
    releaseJob: async (_, { jobId }, ctx) => jobFromRow(await finishJob(ctx.pool, checkId(jobId, "Job"), workerOf(ctx), { kind: "release" })),
    completeJob: async (_, { jobId, result }, ctx) =>
      jobFromRow(await finishJob(ctx.pool, checkId(jobId, "Job"), workerOf(ctx), { kind: "complete", result })),
    failJob: async (_, { jobId, error, retry }, ctx) =>
      jobFromRow(
        await finishJob(ctx.pool, checkId(jobId, "Job"), workerOf(ctx), { kind: "fail", error: error.slice(0, 10_000), retry: retry ?? false }),
      ),
    reportRunProgress: async (_, { jobId, progress }, ctx) => {
      const job = await assertHoldsJob(ctx.pool, checkId(jobId, "Job"), workerOf(ctx));
      const runId = requireRunJob(job);
      const sets: string[] = [];
      const params: unknown[] = [];
      for (const [col, v] of [
        ["step", progress.step],
        ["stage", progress.stage],
        ["shots", progress.shots],
      ] as const) {
        if (v != null) {
          params.push(v);
          sets.push(`${col} = $${params.length + 1}`);
        }
      }
      if (sets.length) await inTransaction(ctx.pool, (c) => touchRun(c, runId, sets.join(", "), params));
      return ctx.prisma.run.findUniqueOrThrow({ where: { id: runId } });
    },
    reportRollouts: async (_, { jobId, rollouts }, ctx) => {
      checkBatch(ctx, rollouts, "rollout");
      const id = checkId(jobId, "Job");
      const workerId = workerOf(ctx);
      // Hot path: lease check and insert in one statement. Only when that finds no held TRAIN job
      // do we look the job up, to answer with the precise error (or insert if it was a race).
      const done = await insertRolloutsForHeldJob(ctx.pool, id, workerId, rollouts);
      if (done) return done;
      const job = await assertHoldsJob(ctx.pool, id, workerId);
      return insertRollouts(ctx.pool, requireRunJob(job), rollouts);
    },
    logMetrics: async (_, { jobId, points }, ctx) => {
      checkBatch(ctx, points, "metric point");
      const bad = points.findIndex((p) => !p.key.trim() || p.key.length > 200);
      if (bad >= 0)
        throw badInput(`Metric point ${bad} has an empty or over-long key.`, [{ path: `points.${bad}.key`, message: "1 to 200 characters" }]);
      const job = await assertHoldsJob(ctx.pool, checkId(jobId, "Job"), workerOf(ctx));
      return insertMetrics(
        ctx.pool,
        requireRunJob(job),
        points.map((p) => ({ key: p.key, step: p.step, value: p.value, time: p.time ? new Date(p.time) : undefined })),
      );
    },
    reportBenchmarkItems: async (_, { jobId, items }, ctx) => {
      checkBatch(ctx, items, "benchmark item");
      const job = await assertHoldsJob(ctx.pool, checkId(jobId, "Job"), workerOf(ctx));
      if (!job.benchmark_run_id) throw badInput(`Job ${jobId} is not an EVAL job.`);
      return insertBenchmarkItems(ctx.pool, job.benchmark_run_id, items);
    },
    truncateRun: async (_, { jobId, afterStep }, ctx) => {
      const job = await assertHoldsJob(ctx.pool, checkId(jobId, "Job"), workerOf(ctx));
      const runId = requireRunJob(job);
      await inTransaction(ctx.pool, async (c) => {
        await c.query("SELECT 1 FROM runs WHERE id = $1 FOR UPDATE", [runId]);
        await c.query("DELETE FROM rollouts WHERE run_id = $1 AND step > $2", [runId, afterStep]);
        await c.query("DELETE FROM metric_points WHERE run_id = $1 AND step > $2", [runId, afterStep]);
        // Adapters and checkpoints of the discarded steps describe a trajectory that no longer exists
        // (the redone steps upload their own). Files stay: the store is content-addressed and shared.
        await c.query(
          `DELETE FROM artifacts a WHERE a.run_id = $1 AND a.step > $2
             AND NOT EXISTS (SELECT 1 FROM benchmark_runs b WHERE b.adapter_artifact_id = a.id)`,
          [runId, afterStep],
        );
        // Rebuild the rollups of the affected buckets from the surviving points.
        await c.query(`DELETE FROM metric_rollups WHERE run_id = $1 AND last_step > $2`, [runId, afterStep]);
        await c.query(
          `INSERT INTO metric_rollups (run_id, key, width, bucket, min, max, sum, count, first, last, first_step, last_step)
           SELECT $1, key, w, floor(step::float8 / w)::int, min(value), max(value), sum(value), count(*)::int,
             (array_agg(value ORDER BY step))[1], (array_agg(value ORDER BY step DESC))[1], min(step), max(step)
           FROM metric_points CROSS JOIN unnest($3::int[]) AS w
           WHERE run_id = $1 AND floor(step::float8 / w) * w + w - 1 > $2
           GROUP BY key, w, floor(step::float8 / w)::int
           ON CONFLICT DO NOTHING`,
          [runId, afterStep, [...ROLLUP_WIDTHS]],
        );
        await touchRun(c, runId, "step = LEAST(step, $2)", [afterStep]);
      });
      return ctx.prisma.run.findUniqueOrThrow({ where: { id: runId } });
    },
  },
};
