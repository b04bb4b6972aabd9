// TRAIN jobs: run the ICRL training loop for a run the worker claimed, streaming rollouts and
// metrics through the outbox and uploading adapters and checkpoints as artifacts.
//
// Resume: the claim's context names the latest checkpoint (this run's own, or the parent's for a
// fork). Steps after it are deleted on the server first (truncateRun), then the loop restores the
// learner, curriculum and data cursor and continues, so no step is recorded twice and the step axis
// stays monotonic. A fork continues its parent's step numbering from forkStep. A worker asked to
// stop (SIGTERM) or a cancelled run checkpoints at the step boundary before it releases or
// completes the job, so the next worker (or resumeRun) loses nothing.
import path from "node:path";
import { randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import {
  errorMessage,
  LeaseLostError,
  LogMetricsDocument,
  ReportRolloutsDocument,
  ReportRunProgressDocument,
  retryTransient,
  TruncateRunDocument,
  type MetricPointInput,
} from "../../client-sdk/src/index.js";
import { datasetItems } from "../evaluation/dataset-items.js";
import { LearnerDriver } from "../learner/driver.js";
import { claimedDemonstrations } from "../runtime/claimed-demonstrations.js";
import { JobInputError, NonFiniteMetricError } from "../runtime/errors.js";
import type { RolloutRecord } from "../../contracts/index.js";
import type { JobOutcome, JobRunContext } from "../runtime/job-runner.js";
import { jobEngine } from "../runtime/job-setup.js";
import { CheckpointUploads } from "./checkpoint-uploads.js";
import { usableCheckpoint } from "./usable-checkpoint.js";
import { ProgressReporter } from "./progress-reporter.js";
import { parseTrainContext } from "./train-context.js";
import { runTraining } from "./train-loop.js";
import { setUpTraining, type TrainingSetup } from "./train-setup.js";
import type { TrainingItem } from "./types.js";
import { uploadArtifact } from "./upload-artifact.js";
import { warmStart } from "./warm-start.js";

export { learnerInitParams } from "./train-setup.js";

async function loadItems(ctx: JobRunContext, datasetId: string, split: string | undefined, limit: number): Promise<TrainingItem[]> {
  const out: TrainingItem[] = [];
  for await (const item of datasetItems(ctx.client, { jobId: ctx.job.id, datasetId, split, limit, skip: new Set(), retry: { signal: ctx.signal } })) {
    out.push({ id: item.externalId, question: item.question, golds: item.golds });
  }
  return out;
}

export async function runTrainJob(ctx: JobRunContext): Promise<JobOutcome> {
  const parsed = parseTrainContext(ctx.context);
  // The run's local paths, checked and resolved: the engine, the learner and the tools open these.
  const config = {
    ...parsed.config,
    model: { ...parsed.config.model, path: ctx.allowedPaths.check(parsed.config.model.path, "model.path") },
    tools: ctx.allowedPaths.checkTools(parsed.config.tools, "tools"),
  };
  const context = { ...parsed, config };
  const runId = context.run.id;
  const jobId = ctx.job.id;
  const log = ctx.logger.child({ jobId, runId });
  const retry = {
    signal: ctx.signal,
    onRetry: (err: unknown, delayMs: number) => log.warn({ err: errorMessage(err), delayMs }, "server call failed; retrying"),
  };
  // One directory per claim: llama.cpp caches adapters by path, so a worker claiming the same job
  // again must never rewrite an adapter file it loaded before.
  const claimTag = randomBytes(4).toString("hex");
  const workDir = path.join(ctx.dataDir, "train", `${jobId}-${claimTag}`);
  await mkdir(workDir, { recursive: true });

  if (!context.dataset) throw new JobInputError(`Run ${runId}: its dataset no longer exists.`);
  const train = await loadItems(ctx, context.dataset.id, config.dataset.split, Number.MAX_SAFE_INTEGER);
  if (train.length === 0) throw new JobInputError(`Dataset split "${config.dataset.split}" has no items.`);
  const validation = config.dataset.validationSplit
    ? await loadItems(ctx, context.dataset.id, config.dataset.validationSplit, config.validation.size)
    : [];

  const engine = await jobEngine(ctx.engines, { path: config.model.path, field: "model.path" });
  const demonstrations = context.demonstrationSet ? claimedDemonstrations(context.demonstrationSet) : null;
  const learner = LearnerDriver.start({ logger: log.child({ component: "learner" }) });
  let setup: TrainingSetup | undefined;
  // The streams belong to this attempt (the key carries the claim's tag): a stream that failed with an
  // earlier attempt or job stays out of this one, and both are dropped when the attempt ends. What an
  // earlier attempt delivered is on the server already; the truncate below settles what it left half done.
  const rollouts = ctx.outbox.stream<RolloutRecord>(`rollouts:${jobId}:${claimTag}`, {
    send: (batch, signal) => ctx.client.mutate(ReportRolloutsDocument, { jobId, rollouts: batch }, { signal }),
    maxBatchItems: 64,
    onFailure: (error, kind) => kind === "lease-lost" && ctx.lease.markLost(error),
  });
  const metrics = ctx.outbox.stream<MetricPointInput>(`metrics:${jobId}:${claimTag}`, {
    send: (batch, signal) => ctx.client.mutate(LogMetricsDocument, { jobId, points: batch }, { signal }),
    maxBatchItems: 500,
    onFailure: (error, kind) => kind === "lease-lost" && ctx.lease.markLost(error),
  });
  const checkStreams = () => {
    for (const s of [rollouts, metrics]) {
      const failure = s.failed;
      if (failure) throw failure.kind === "lease-lost" ? new LeaseLostError(jobId, { cause: failure }) : failure;
    }
  };
  // Only this attempt's streams: the outbox is the worker's, shared with whatever else it runs.
  const flushStreams = async () => {
    const results = await Promise.allSettled([rollouts, metrics].map((s) => s.flush({ signal: ctx.signal })));
    checkStreams();
    for (const r of results) if (r.status === "rejected") throw r.reason;
  };
  // What an adapter or checkpoint file cannot say about itself: the base model it belongs to and its LoRA shape.
  const artifactMetadata = { model: path.basename(config.model.path), lora: { ...config.lora } };
  const checkpoints = new CheckpointUploads(
    path.join(workDir, "checkpoint-uploads"),
    async (step, files) => {
      // Everything up to this step is stored before the checkpoint that vouches for it.
      await flushStreams();
      const upload = (kind: "ADAPTER" | "CHECKPOINT", name: string, file: string) =>
        uploadArtifact(ctx.client, { jobId, kind, name, step, file, metadata: artifactMetadata, signal: ctx.signal, onRetry: retry.onRetry });
      await upload("ADAPTER", `adapter-step-${step}.gguf`, files.adapter);
      await upload("CHECKPOINT", `checkpoint-step-${step}.icrl`, files.checkpoint);
      log.info({ step }, "checkpoint stored");
    },
    (dropped, by) => log.warn({ dropped, by }, "checkpoint not stored yet (server unreachable?): replaced by a newer one"),
  );

  try {
    setup = await setUpTraining({
      config,
      engine,
      learner,
      demonstrations,
      curriculum: context.curriculum,
      learnerThreads: ctx.engines.threads,
    });
    const init = setup.learnerInfo;
    log.info({ device: init.device, arch: init.arch, trainable: init.trainable_params }, "learner ready");

    let resumeFrom: string | undefined;
    if (context.checkpoint) {
      const chosen = await usableCheckpoint(
        [context.checkpoint, ...context.earlierCheckpoints],
        (ref) => ctx.adapters.fetch(ref, retry, "Checkpoint artifact"),
        (fields, msg) => log.warn(fields, msg),
      );
      const checkpointStep = chosen.ref.step;
      resumeFrom = chosen.file;
      // Steps after the checkpoint were lost with the previous worker: drop what they reported. For a
      // fork resuming from its parent's checkpoint these are its own steps after forkStep (none yet
      // on a first start); the parent's data is never touched.
      await retryTransient(() => ctx.client.mutate(TruncateRunDocument, { jobId, afterStep: checkpointStep }), retry);
      if (chosen.ref.fromRunId === runId) {
        // The checkpointed step's own last metrics (timings) follow its upload: if the previous worker
        // died in between, log the ones the checkpoint carries (the server keeps the first per key and step).
        const { step, lateMetrics } = chosen.header; // read once, when the checkpoint was checked
        for (const [key, value] of Object.entries(lateMetrics ?? {})) if (Number.isFinite(value)) metrics.enqueue({ key, step, value });
      }
      log.info({ step: checkpointStep, fromRunId: chosen.ref.fromRunId }, "resuming from checkpoint");
    } else {
      // A start without a checkpoint redoes everything: drop whatever an earlier attempt reported
      // (run.step alone cannot tell, progress reports race with rollout batches).
      await retryTransient(() => ctx.client.mutate(TruncateRunDocument, { jobId, afterStep: 0 }), retry);
      if (config.warmStart) {
        const result = await warmStart(learner, engine, {
          demonstrations: setup.demonstrations,
          template: setup.template,
          chatTemplateArgs: config.model.chatTemplateArgs,
          shots: [0, 1, 2, 3],
          steps: config.warmStart.steps,
          lr: config.warmStart.lr,
        });
        log.info({ lossBefore: result.loss_before, lossAfter: result.loss_after }, "warm start done");
        const adapter = path.join(workDir, "warm-start.gguf");
        await learner.exportAdapter(adapter);
        await engine.setAdapter(adapter);
      }
    }

    const progress = new ProgressReporter(
      async (p) => void (await retryTransient(() => ctx.client.mutate(ReportRunProgressDocument, { jobId, progress: p }), retry)),
      (err) => log.warn({ err: errorMessage(err) }, "progress report failed"),
    );
    const outcome = await runTraining({
      ...setup,
      train,
      validation,
      workDir,
      resumeFrom,
      // Asked at every boundary (one heartbeat per step), so a cancel stops the run after the step in
      // progress whatever the steps' length, not when the background heartbeat next happens to run.
      shouldStop: async () => ctx.stopRequested() || ctx.lease.lost || (await ctx.lease.checkNow()) || ctx.lease.lost,
      // Shutdown and cancel both checkpoint the finished steps, so a released job or a resumed run
      // redoes nothing; a lost lease cannot store anything any more.
      checkpointOnStop: () => !ctx.lease.lost,
      log: (msg, fields) => log.info(fields ?? {}, msg),
      events: {
        rollouts: (_step, list) => {
          ctx.lease.assertHeld();
          for (const r of list) rollouts.enqueue(r);
        },
        metrics: (step, values) => {
          ctx.lease.assertHeld();
          for (const [key, value] of Object.entries(values)) {
            if (Number.isFinite(value)) metrics.enqueue({ key, step, value });
            // Postgres and JSON cannot hold NaN: a learner's stops the run, any other is said, not dropped silently.
            else if (key.startsWith("learner/")) throw new NonFiniteMetricError(key, value, step);
            else log.warn({ key, step, value: String(value) }, "metric is not a finite number; not stored");
          }
        },
        progress: (p) => progress.report(p),
        stageChange: (change) => log.info(change, "curriculum stage change"),
        // Stored in the background (checkpoint-uploads.ts): an unreachable server never holds a step up.
        // Without a `flush` here the loop does not wait after a checkpointed step either: a checkpoint
        // carries its step's late metrics, which a resumed run logs if they never arrived.
        checkpoint: (step, files) => checkpoints.handOver(step, files),
      },
    });
    await checkpoints.settle();
    await flushStreams();
    await progress.flush(); // the run's final step is stored before the job is finished
    if (ctx.lease.lost) throw new LeaseLostError(jobId);
    if (ctx.lease.cancelRequested) return { status: "cancelled", result: { lastStep: outcome.lastStep } };
    if (outcome.stopped) return { status: "interrupted" };
    return { status: "completed", result: { lastStep: outcome.lastStep, stageChanges: outcome.stageChanges } };
  } finally {
    // Everything of a finished attempt is delivered by now; a failed one leaves nothing for the next.
    await checkpoints.abandon();
    await Promise.all([rollouts.discard(), metrics.discard()]);
    await learner.shutdown().catch(() => undefined);
    await setup?.close().catch(() => undefined);
    await engine.setAdapter(null).catch(() => undefined);
    await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
  }
}
