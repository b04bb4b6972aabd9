// EVAL jobs: evaluate a model (plus an optional adapter artifact) on a benchmark dataset and report
// every item's result, then the run's aggregate.
//
// Flow: validate the context -> load the model (kept between jobs) -> fetch + verify the adapter ->
// build the configured tools -> page the questions (skipping items already stored) -> evaluate
// `parallel` at a time -> stream the item results through the outbox -> at the end flush and hand the
// aggregate to completeJob. Between batches the runner honours a lost lease (stop, report nothing
// more), a cancellation (flush, complete) and a worker shutdown (flush, release).
import path from "node:path";
import { ReportBenchmarkItemsDocument, type BenchmarkItemInput } from "../../client-sdk/src/index.js";
import { errorMessage, LeaseLostError, type OutboxStream } from "../../client-sdk/src/index.js";
import type { JobOutcome, JobRunContext } from "../runtime/job-runner.js";
import { jobEngine, jobTools } from "../runtime/job-setup.js";
import { aggregateItems, type ScoredItem } from "./aggregate.js";
import { datasetItems } from "./dataset-items.js";
import { parseEvalContext } from "./eval-context.js";
import { planEvaluation } from "./eval-plan.js";
import { evaluateBatch } from "./run-batch.js";
import type { EvalItem } from "./score-item.js";

/** Item results per reportBenchmarkItems call (each carries a whole trajectory). */
const REPORT_BATCH_ITEMS = 50;

export async function runEvalJob(ctx: JobRunContext): Promise<JobOutcome> {
  const parsed = parseEvalContext(ctx.context);
  // The benchmark's local paths, checked and resolved before the worker adds its own cache dir.
  const bench = parsed.benchmarkRun;
  const context = {
    ...parsed,
    benchmarkRun: {
      ...bench,
      model: ctx.allowedPaths.check(bench.model, "benchmarkRun.model"),
      config: { ...bench.config, tools: ctx.allowedPaths.checkTools(bench.config.tools, "config.tools") },
    },
  };
  const plan = planEvaluation(context, { searchCacheDir: path.join(ctx.dataDir, "search-cache") });
  const run = context.benchmarkRun;
  const log = ctx.logger.child({ jobId: ctx.job.id, benchmarkRunId: run.id });
  const retry = {
    signal: ctx.signal,
    onRetry: (err: unknown, delayMs: number) => log.warn({ err: errorMessage(err), delayMs }, "server call failed; retrying"),
  };

  const adapter = context.adapter ? { id: context.adapter.id, file: await ctx.adapters.fetch(context.adapter, retry) } : null;
  const engine = await jobEngine(ctx.engines, { path: run.model, field: "benchmarkRun.model" }, adapter);
  const { toolSet, tools } = await jobTools(plan.tools, engine, "the benchmark");
  if (tools.length === 0) log.warn({ task: plan.task }, "no tools configured: the model answers without searching or running code");

  const stream: OutboxStream<BenchmarkItemInput> = ctx.outbox.stream(`benchmark-items:${ctx.job.id}`, {
    send: (items, signal) => ctx.client.mutate(ReportBenchmarkItemsDocument, { jobId: ctx.job.id, items }, { signal }),
    maxBatchItems: REPORT_BATCH_ITEMS,
    onFailure: (error, kind) => {
      if (kind === "lease-lost") ctx.lease.markLost(error);
    },
  });
  const checkStream = () => {
    const failure = stream.failed;
    if (!failure) return;
    if (failure.kind === "lease-lost") throw new LeaseLostError(ctx.job.id, { cause: failure });
    throw failure;
  };

  const completed = new Set(context.completedItemIndexes);
  const scored: ScoredItem[] = (context.completedItems ?? []).map((i) => ({ score: i.score, metrics: i.metrics ?? null }));
  if (completed.size > 0 && !context.completedItems) {
    log.warn({ completed: completed.size }, "the server sent no scores of the items already stored: the aggregate covers this attempt's items only");
  }
  let done = completed.size;
  log.info(
    {
      model: run.model,
      adapter: context.adapter?.id ?? null,
      task: plan.task,
      metric: plan.metric,
      shots: plan.shots,
      total: run.total,
      alreadyDone: done,
      tools: toolSet.names,
    },
    "evaluation started",
  );

  const finishEarly = async (status: "cancelled" | "interrupted"): Promise<JobOutcome> => {
    await stream.close({ signal: ctx.signal });
    checkStream();
    log.info({ done, total: run.total }, status === "cancelled" ? "evaluation cancelled" : "evaluation interrupted; releasing the job");
    return status === "cancelled" ? { status, result: { aggregate: aggregateItems(scored, plan.metric), cancelled: true } } : { status };
  };

  const started = performance.now();
  try {
    // All questions up front (a benchmark is at most a few thousand short texts): generation then
    // never waits on the server, which may be away while results pile up in the outbox.
    const todo: EvalItem[] = [];
    for await (const item of datasetItems(ctx.client, {
      jobId: ctx.job.id,
      datasetId: context.dataset.id,
      split: plan.split,
      limit: plan.limit,
      skip: completed,
      retry,
    })) {
      todo.push(item);
    }
    let lastCancelCheck = performance.now();
    for (let start = 0; start < todo.length; start += plan.parallel) {
      // Boundaries: a cancellation or a shutdown is honoured before each batch, never inside one. The
      // server is asked at most once a second: batches of a tiny model take milliseconds.
      if (performance.now() - lastCancelCheck >= 1000) {
        lastCancelCheck = performance.now();
        await ctx.lease.checkNow();
      }
      if (ctx.lease.cancelRequested) return await finishEarly("cancelled");
      if (ctx.stopRequested()) return await finishEarly("interrupted");
      const results = await evaluateBatch(engine, todo.slice(start, start + plan.parallel), plan, tools, ctx.lease.signal);
      ctx.lease.assertHeld(); // results of a job we no longer hold must not be reported
      checkStream();
      for (const item of results) {
        stream.enqueue(item);
        scored.push({ score: item.score, metrics: item.metrics as Record<string, unknown> });
      }
      done += results.length;
      log.debug({ done, total: run.total }, "benchmark batch done");
    }

    await stream.close({ signal: ctx.signal });
    checkStream();
    const aggregate = aggregateItems(scored, plan.metric);
    log.info({ ...aggregate, seconds: Math.round((performance.now() - started) / 100) / 10 }, "evaluation finished");
    if (ctx.lease.cancelRequested) return { status: "cancelled", result: { aggregate, cancelled: true } };
    return { status: "completed", result: { aggregate } };
  } catch (error) {
    if (ctx.lease.lost) throw new LeaseLostError(ctx.job.id, { cause: error });
    throw error;
  } finally {
    if (ctx.outbox.get(stream.key) === stream) await stream.discard();
    await toolSet.close();
  }
}
