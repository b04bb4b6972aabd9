// The worker protocol: register, claim, heartbeat, report, finish. A worker token acts only on jobs
// its worker currently holds, and on those jobs' runs.
import type { Resolvers } from "../../generated/graphql.js";
import { apiError, badInput } from "../../errors.js";
import { registerWorkerRow } from "../../auth/worker-registration.js";
import { insertRollouts, insertRolloutsForHeldJob } from "../../ingest/rollouts.js";
import { insertMetrics } from "../../ingest/metrics.js";
import { insertBenchmarkItems } from "../../ingest/benchmark-items.js";
import { recordRunProgress } from "../../ingest/run-progress.js";
import { truncateRun } from "../../ingest/truncate-run.js";
import { assertHoldsJob, claimJob, finishJob, heartbeat } from "../../jobs/queue.js";
import { jobFromRow, type JobRow } from "../../store/job-row.js";
import { buildClaimContext } from "../../store/claim-context.js";
import { datasetItemsPage } from "../../store/dataset-items.js";
import { can, checkId, workerOf } from "../guards.js";
import type { GraphQLContext } from "../context.js";

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

export const workerResolvers: Resolvers = {
  Query: {
    jobDatasetItems: async (_, { jobId, datasetId, split, first, after }, ctx) => {
      const workerId = workerOf(ctx);
      const job = await assertHoldsJob(ctx.pool, checkId(jobId, "Job"), workerId);
      const allowed = (await buildClaimContext(ctx, job)).dataset?.id;
      if (allowed !== checkId(datasetId, "Dataset")) throw apiError("FORBIDDEN", `Job ${jobId} does not use dataset ${datasetId}.`);
      return datasetItemsPage(ctx.pool, datasetId, split, first, after);
    },
  },
  Mutation: {
    registerWorker: async (_, { name, capabilities, instanceId }, ctx) => {
      const p = can(ctx, "worker");
      if (p.workerId) throw apiError("FORBIDDEN", "This token already belongs to a registered worker; register with a worker registration key.");
      if (!name.trim()) throw badInput("Worker name must not be empty.");
      if (!capabilities || typeof capabilities !== "object" || Array.isArray(capabilities)) {
        throw badInput('capabilities must be an object, e.g. {backend: "cpu", memoryMb: 16000, threads: 2}.');
      }
      return registerWorkerRow(ctx.prisma, { name: name.trim(), capabilities: capabilities as object, instanceId });
    },
    signOffWorker: (_, __, ctx) => ctx.prisma.worker.update({ where: { id: workerOf(ctx) }, data: { status: "OFFLINE" } }),
    claimJob: async (_, { kinds }, ctx) => {
      const workerId = workerOf(ctx);
      const worker = await ctx.prisma.worker.findUniqueOrThrow({ where: { id: workerId } });
      const job = await claimJob(
        ctx.pool,
        { id: worker.id, capabilities: worker.capabilities as Record<string, unknown> },
        { kinds, leaseSeconds: ctx.config.leaseSeconds },
      );
      if (!job) return null;
      return { job: jobFromRow(job), context: await buildClaimContext(ctx, job) };
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
      await recordRunProgress(ctx.pool, runId, progress);
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
      await truncateRun(ctx.pool, runId, afterStep);
      return ctx.prisma.run.findUniqueOrThrow({ where: { id: runId } });
    },
  },
};
