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
  LogMetricsDocument,
  ReportRolloutsDocument,
  ReportRunProgressDocument,
  TruncateRunDocument,
  type MetricPointInput,
  type RolloutInput,
} from "../../client-sdk/src/index.js";
import { runConfigSchema, type RunConfig } from "../../contracts/index.js";
import { paperCurriculum, type CurriculumSpecInput } from "../icrl/curriculum.js";
import { defaultDemonstrationsFor } from "../icrl/default-demonstrations.js";
import { defaultTemplateFor } from "../icrl/default-templates.js";
import { DemonstrationSetSchema, type DemonstrationSet } from "../../contracts/index.js";
import { LearnerDriver, type InitParams } from "../learner/driver.js";
import { buildTools } from "../tools/registry.js";
import type { Tool } from "../tools/types.js";
import { datasetItems } from "../evaluation/dataset-items.js";
import { errorMessage, LeaseLostError, retryTransient } from "../../client-sdk/src/index.js";
import { JobInputError } from "../runtime/errors.js";
import type { JobOutcome, JobRunContext } from "../runtime/job-runner.js";
import { readCheckpointHeader } from "./checkpoint-file.js";
import { runTraining, type TrainingItem } from "./train-loop.js";
import { uploadArtifact } from "./upload-artifact.js";
import { warmStart } from "./warm-start.js";

/** The learner's init for a run config (model, LoRA, GRPO coefficients, seed); threads are the caller's. */
export function learnerInitParams(config: RunConfig): InitParams {
  return {
    model_path: config.model.path,
    lora: { rank: config.lora.rank, alpha: config.lora.alpha, targets: config.lora.targets },
    optim: {
      lr: config.grpo.lr,
      clip_ratio_low: config.grpo.clipEps,
      clip_ratio_high: config.grpo.clipEps,
      kl_coef: config.grpo.klCoef,
      entropy_coef: config.grpo.entropyCoef,
      grad_clip: config.grpo.gradClip,
      epochs: config.grpo.epochs,
      ...(config.grpo.miniBatchSize ? { mini_batch_size: config.grpo.miniBatchSize } : {}),
    },
    seed: config.seed,
  };
}

interface TrainContext {
  run: { id: string; name: string; config: unknown; seed: number; step: number };
  curriculum: {
    stages: CurriculumSpecInput["stages"];
    advanceRules?: { metric: string; window: number; threshold: number; op?: string }[] | null;
  } | null;
  demonstrationSet: DemonstrationSet | null;
  dataset: { id: string; splits: string[] } | null;
  checkpoint: { id: string; step: number; sha256: string; bytes: string; name: string; downloadPath: string; fromRunId: string } | null;
}

async function loadItems(ctx: JobRunContext, datasetId: string, split: string | undefined, limit: number): Promise<TrainingItem[]> {
  const out: TrainingItem[] = [];
  for await (const item of datasetItems(ctx.client, { jobId: ctx.job.id, datasetId, split, limit, skip: new Set(), retry: { signal: ctx.signal } })) {
    out.push({ id: item.externalId, question: item.question, golds: item.golds });
  }
  return out;
}

function curriculumOf(context: TrainContext, config: RunConfig): CurriculumSpecInput {
  const source = context.curriculum ?? config.curriculum;
  if (!source) return paperCurriculum();
  return {
    stages: source.stages.map((s) => ({
      shots: s.shots,
      steps: s.steps ?? undefined,
      minSteps: s.minSteps ?? undefined,
      maxSteps: s.maxSteps ?? undefined,
    })),
    advance: (source.advanceRules ?? []).map((r) => ({ metric: r.metric, window: r.window, threshold: r.threshold, op: (r.op ?? ">=") as ">=" })),
  };
}

export async function runTrainJob(ctx: JobRunContext): Promise<JobOutcome> {
  const context = ctx.context as TrainContext;
  const parsed = runConfigSchema.safeParse(context.run?.config);
  if (!parsed.success) throw new JobInputError(`Run ${context.run?.id} has an invalid config: ${parsed.error.message}`);
  const config = parsed.data;
  const runId = context.run.id;
  const jobId = ctx.job.id;
  const log = ctx.logger.child({ jobId, runId });
  const retry = {
    signal: ctx.signal,
    onRetry: (err: unknown, delayMs: number) => log.warn({ err: errorMessage(err), delayMs }, "server call failed; retrying"),
  };
  // One directory per claim: llama.cpp caches adapters by path, so a worker claiming the same job
  // again must never rewrite an adapter file it loaded before.
  const workDir = path.join(ctx.dataDir, "train", `${jobId}-${randomBytes(4).toString("hex")}`);
  await mkdir(workDir, { recursive: true });

  if (!context.dataset) throw new JobInputError(`Run ${runId}: its dataset no longer exists.`);
  const train = await loadItems(ctx, context.dataset.id, config.dataset.split, Number.MAX_SAFE_INTEGER);
  if (train.length === 0) throw new JobInputError(`Dataset split "${config.dataset.split}" has no items.`);
  const validation = config.dataset.validationSplit
    ? await loadItems(ctx, context.dataset.id, config.dataset.validationSplit, config.validation.size)
    : [];

  const engine = await ctx.engines.get(config.model.path).catch((error) => {
    throw new JobInputError(`Cannot load model ${config.model.path} on this worker: ${errorMessage(error)}`, { cause: error });
  });
  await engine.setAdapter(null);
  const template = config.template ?? defaultTemplateFor(config.task);
  // The server names tasks by dataset kind (QA, MATH); prompts use the lower-case task names.
  const demonstrations = context.demonstrationSet
    ? DemonstrationSetSchema.parse({ ...context.demonstrationSet, task: String(context.demonstrationSet.task).toLowerCase() })
    : defaultDemonstrationsFor(config.task);
  let toolSet;
  try {
    toolSet = await buildTools(config.tools, { countTokens: (text) => engine.tokenize(text).length });
  } catch (error) {
    throw new JobInputError(`Cannot set up the run's tools on this worker: ${errorMessage(error)}`, { cause: error });
  }
  const tools: Tool[] = toolSet.names.map((name) => toolSet.get(name)!);

  const learner = LearnerDriver.start({ logger: log.child({ component: "learner" }) });
  const rollouts = ctx.outbox.stream<RolloutInput>(`rollouts:${jobId}`, {
    send: (batch, signal) => ctx.client.mutate(ReportRolloutsDocument, { jobId, rollouts: batch }, { signal }),
    maxBatchItems: 64,
    onFailure: (error, kind) => kind === "lease-lost" && ctx.lease.markLost(error),
  });
  const metrics = ctx.outbox.stream<MetricPointInput>(`metrics:${jobId}`, {
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

  try {
    const init = await learner.init({
      ...learnerInitParams(config),
      // Engine and learner take turns, never run at once: the worker's thread budget serves both. (The
      // learner's own default, every core, ran the same step 3x slower on a busy 2-core machine:
      // BENCHMARKS.md, step.)
      ...(ctx.engines.threads ? { threads: ctx.engines.threads } : {}),
    });
    log.info({ device: init.device, arch: init.arch, trainable: init.trainable_params }, "learner ready");

    let resumeFrom: string | undefined;
    if (context.checkpoint) {
      resumeFrom = await ctx.adapters.fetch({ ...context.checkpoint, bytes: Number(context.checkpoint.bytes) } as never, retry);
      // Steps after the checkpoint were lost with the previous worker: drop what they reported. For a
      // fork resuming from its parent's checkpoint these are its own steps after forkStep (none yet
      // on a first start); the parent's data is never touched.
      await retryTransient(() => ctx.client.mutate(TruncateRunDocument, { jobId, afterStep: context.checkpoint!.step }), retry);
      if (context.checkpoint.fromRunId === runId) {
        // The checkpointed step's own last metrics (timings) follow its upload: if the previous worker
        // died in between, log the ones the checkpoint carries (the server keeps the first per key and step).
        const { step, lateMetrics } = await readCheckpointHeader(resumeFrom);
        for (const [key, value] of Object.entries(lateMetrics ?? {})) if (Number.isFinite(value)) metrics.enqueue({ key, step, value });
      }
      log.info({ step: context.checkpoint.step, fromRunId: context.checkpoint.fromRunId }, "resuming from checkpoint");
    } else {
      // A start without a checkpoint redoes everything: drop whatever an earlier attempt reported
      // (run.step alone cannot tell, progress reports race with rollout batches).
      await retryTransient(() => ctx.client.mutate(TruncateRunDocument, { jobId, afterStep: 0 }), retry);
      if (config.warmStart) {
        const result = await warmStart(learner, engine, {
          demonstrations,
          template,
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

    const outcome = await runTraining({
      config,
      engine,
      learner,
      tools,
      train,
      validation,
      curriculum: curriculumOf(context, config),
      template,
      demonstrations,
      workDir,
      resumeFrom,
      shouldStop: () => ctx.lease.cancelRequested || ctx.stopRequested() || ctx.lease.lost,
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
          for (const [key, value] of Object.entries(values)) if (Number.isFinite(value)) metrics.enqueue({ key, step, value });
        },
        progress: (p) => {
          void retryTransient(() => ctx.client.mutate(ReportRunProgressDocument, { jobId, progress: p }), retry).catch((err) =>
            log.warn({ err: errorMessage(err) }, "progress report failed"),
          );
        },
        stageChange: (change) => log.info(change, "curriculum stage change"),
        checkpoint: async (step, files) => {
          // Everything up to this step is stored before the checkpoint that vouches for it.
          await ctx.outbox.flush({ signal: ctx.signal });
          checkStreams();
          await retryTransient(
            () =>
              uploadArtifact(ctx.client, {
                jobId,
                kind: "ADAPTER",
                name: `adapter-step-${step}.gguf`,
                step,
                file: files.adapter,
                signal: ctx.signal,
              }),
            retry,
          );
          await retryTransient(
            () =>
              uploadArtifact(ctx.client, {
                jobId,
                kind: "CHECKPOINT",
                name: `checkpoint-step-${step}.icrl`,
                step,
                file: files.checkpoint,
                signal: ctx.signal,
              }),
            retry,
          );
          log.info({ step }, "checkpoint stored");
        },
        flush: async () => {
          await ctx.outbox.flush({ signal: ctx.signal });
          checkStreams();
        },
      },
    });
    await ctx.outbox.flush({ signal: ctx.signal });
    checkStreams();
    if (ctx.lease.lost) throw new LeaseLostError(jobId);
    if (ctx.lease.cancelRequested) return { status: "cancelled", result: { lastStep: outcome.lastStep } };
    if (outcome.stopped) return { status: "interrupted" };
    return { status: "completed", result: { lastStep: outcome.lastStep, stageChanges: outcome.stageChanges } };
  } finally {
    await learner.shutdown().catch(() => undefined);
    await toolSet.close().catch(() => undefined);
    await engine.setAdapter(null).catch(() => undefined);
    await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
  }
}
