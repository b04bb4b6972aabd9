// One ICRL training step on the demo model, broken down: generation, tool calls, learner, adapter export
// + reload, checkpoint + upload, and everything else. Target: overhead_share < 0.10, where
//   overhead = step_s - (generation + learner)
// with generation = time inside runRolloutGroup minus tool time (what the engine spends generating,
// including the rollout loop's own per-token work) and learner = time/learner_s (the learner step,
// IPC included). Tool calls, group open/dispose, prompt building, scoring, adapter export + reload,
// checkpoint + upload and the loop's bookkeeping are overhead. `overhead_share_by_timers` is the same
// with generation = time/rollout_s - time/tools_s, i.e. what runTraining's own stage timers can tell
// apart (they fold group open/dispose into the rollout stage).
//
// It drives runTraining directly, set up by the TRAIN job's own setUpTraining (tools, template,
// demonstrations, curriculum, learner init from the run config): a real server on a throwaway Postgres
// (startTestServer via bench/support/control-plane.ts) holds the leased job; rollouts and metrics
// stream through the worker's Outbox with the same batch sizes; checkpoints flush the outbox and
// upload the adapter and checkpoint files with uploadArtifact.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, readFileSync, renameSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { LogMetricsDocument, ReportRolloutsDocument, ReportRunProgressDocument, type MetricPointInput } from "../client-sdk/src/index.js";
import { Outbox } from "../client-sdk/src/index.js";
import { runConfigSchema, type RolloutRecord, STAGE_TIME_KEYS, STEP_TIME_KEY, TOOLS_TIME_KEY } from "../contracts/index.js";
import { loadLlamaEngine, type Engine, type EngineGroup } from "../worker/engine/index.js";
import { LearnerDriver } from "../worker/learner/index.js";
import { evaluateZeroShot, runTraining, setUpTraining, uploadArtifact, type TrainingSetup } from "../worker/training/index.js";
import { LOOKUP_MODEL_SHAPE, LOOKUP_PRETRAINING, buildLookupModel } from "../cli/demo/lookup-model.js";
import { LOOKUP_TEMPLATE, lookupDemonstrations, makeLookupItems, writeLookupFiles } from "../cli/demo/lookup-task.js";
import { startControlPlane } from "./support/control-plane.js";
import { progress, round } from "./support/stats.js";

const WARMUP_STEPS = 1;
const MEASURED_STEPS = Number(process.env.ICRL_BENCH_STEP_STEPS ?? 8);
const PRETRAIN_STEPS = 60;
const HELD_OUT = 16;

/** Per-step figures in seconds: runTraining's own timers plus what the bench measures around them. */
interface StepRecord {
  step: number;
  checkpointed: boolean;
  // runTraining's timers (events.metrics)
  step_s: number;
  sample_s: number;
  prompt_s: number;
  rollout_s: number;
  score_s: number;
  advantages_s: number;
  tools_s: number;
  learner_s: number;
  adapter_reload_s: number;
  upload_s: number;
  // measured by the bench around the engine, learner and upload calls
  in_rollout_group_s: number;
  open_group_s: number;
  dispose_group_s: number;
  learner_compute_s: number;
  export_adapter_s: number;
  set_adapter_s: number;
  save_state_s: number;
  outbox_flush_s: number;
  upload_http_s: number;
  sampled_tokens: number;
  sequence_tokens: number;
  rollouts: number;
  reward: number;
}

const fresh = (step: number): StepRecord => ({
  step,
  checkpointed: false,
  step_s: 0,
  sample_s: 0,
  prompt_s: 0,
  rollout_s: 0,
  score_s: 0,
  advantages_s: 0,
  tools_s: 0,
  learner_s: 0,
  adapter_reload_s: 0,
  upload_s: 0,
  in_rollout_group_s: 0,
  open_group_s: 0,
  dispose_group_s: 0,
  learner_compute_s: 0,
  export_adapter_s: 0,
  set_adapter_s: 0,
  save_state_s: 0,
  outbox_flush_s: 0,
  upload_http_s: 0,
  sampled_tokens: 0,
  sequence_tokens: 0,
  rollouts: 0,
  reward: Number.NaN,
});

const seconds = (since: number) => (performance.now() - since) / 1000;

export default async function stepBench(): Promise<Record<string, number | string>> {
  const loadStart = os.loadavg()[0];
  const tmp = await mkdtemp(path.join(os.tmpdir(), "icrl-bench-step-"));
  const cp = await startControlPlane();
  const learner = LearnerDriver.start();
  let engine: Awaited<ReturnType<typeof loadLlamaEngine>> | null = null;
  let setup: TrainingSetup | undefined;
  try {
    // The demo model's shape and format, pre-trained briefly. Cached across runs (same options and the
    // same recipe give the same bytes): keyed by the shape and the builder's and task's source.
    const cacheDir = path.join(os.tmpdir(), "icrl-bench-step-cache");
    await mkdir(cacheDir, { recursive: true });
    const recipe = createHash("sha256");
    for (const file of ["../cli/demo/lookup-model.ts", "../cli/demo/lookup-task.ts"]) recipe.update(readFileSync(new URL(file, import.meta.url)));
    recipe.update(JSON.stringify(LOOKUP_MODEL_SHAPE));
    const cached = path.join(cacheDir, `lookup-pre${PRETRAIN_STEPS}-${recipe.digest("hex").slice(0, 12)}.gguf`);
    if (!existsSync(cached)) {
      progress(`building the lookup model (${PRETRAIN_STEPS} pre-training steps) into ${cached}`);
      const started = performance.now();
      const partial = `${cached}.${process.pid}.tmp`;
      const r = await buildLookupModel({ ...LOOKUP_PRETRAINING, out: partial, learner, steps: PRETRAIN_STEPS, seed: 1 });
      renameSync(partial, cached);
      progress(`model built in ${seconds(started).toFixed(0)} s (loss ${JSON.stringify(r).slice(0, 120)})`);
    }
    const modelPath = path.join(tmp, "tiny-lookup.gguf");
    copyFileSync(cached, modelPath);

    // The task, as the demo writes it: 100 names, 3 demonstrations, 16 held out.
    const items = makeLookupItems(100, 7);
    const demonstrations = lookupDemonstrations(items.slice(0, 3));
    const toItem = (i: (typeof items)[number]) => ({ id: i.id, question: i.question, golds: [i.code] });
    const train = items.slice(3, items.length - HELD_OUT).map(toItem);
    const held = items.slice(items.length - HELD_OUT).map(toItem);
    const corpus = path.join(tmp, "lookup-corpus.jsonl");
    await writeLookupFiles(items, { corpus });

    const config = runConfigSchema.parse({
      model: { path: modelPath, contextSize: 1024 },
      task: "qa",
      dataset: { id: "00000000-0000-0000-0000-000000000000" },
      tools: { search: { kind: "local", corpus, cacheDir: path.join(tmp, "search-cache"), topK: 1, maxTokens: 64 } },
      demonstrations: { selection: "first" },
      grpo: { groupSize: 8, questionsPerStep: 4, lr: 0.003 },
      lora: { rank: 16, alpha: 16 },
      rollout: { maxToolTurns: 2, maxTurnTokens: 40, maxTotalTokens: 120 },
      validation: { every: 4, size: HELD_OUT },
      template: LOOKUP_TEMPLATE,
      curriculum: { stages: [{ shots: 3 }] },
      checkpointEvery: 4,
      seed: 3,
    });

    // The engine as the worker loads it (cores - 1 threads); the rest as the TRAIN job sets it up.
    engine = await loadLlamaEngine({ modelPath, gpu: false, contextSize: config.model.contextSize });
    setup = await setUpTraining({
      config,
      engine,
      learner,
      demonstrations,
      // As the TRAIN job: the learner gets the worker's (engine's) thread count, since the two take
      // turns. ICRL_BENCH_STEP_LEARNER_THREADS overrides.
      learnerThreads: process.env.ICRL_BENCH_STEP_LEARNER_THREADS ? Number(process.env.ICRL_BENCH_STEP_LEARNER_THREADS) : engine.threads,
    });
    const init = setup.learnerInfo;
    const learnerThreads = init.threads;
    progress(
      `engine: ${engine.backend}, threads ${engine.threads}; learner: ${init.device}, threads ${learnerThreads}, ${init.trainable_params} trainable params`,
    );

    // The server side: a leased TRAIN job, the worker's outbox streams.
    const job = await cp.trainJob("step-bench");
    const outbox = new Outbox({ dir: path.join(tmp, "outbox") });
    const rolloutStream = outbox.stream<RolloutRecord>(`rollouts:${job.jobId}`, {
      send: (batch, signal) => job.worker.mutate(ReportRolloutsDocument, { jobId: job.jobId, rollouts: batch }, { signal }),
      maxBatchItems: 64,
    });
    const metricStream = outbox.stream<MetricPointInput>(`metrics:${job.jobId}`, {
      send: (batch, signal) => job.worker.mutate(LogMetricsDocument, { jobId: job.jobId, points: batch }, { signal }),
      maxBatchItems: 500,
    });
    const checkStreams = () => {
      for (const s of [rolloutStream, metricStream]) if (s.failed) throw s.failed;
    };

    // Timing wrappers around the engine and learner calls runTraining makes.
    const records: StepRecord[] = [];
    let current = fresh(0);
    const timedEngine = new Proxy(engine as Engine, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (prop === "openGroup") {
          return async (size: number, options?: { tokensPerSequence?: number }) => {
            const opened = performance.now();
            const group = await target.openGroup(size, options);
            current.open_group_s += seconds(opened);
            const ready = performance.now();
            return new Proxy(group, {
              get(g, p) {
                const v = Reflect.get(g, p, g);
                if (p === "dispose") {
                  return async () => {
                    current.in_rollout_group_s += seconds(ready);
                    const disposing = performance.now();
                    await g.dispose();
                    current.dispose_group_s += seconds(disposing);
                  };
                }
                return typeof v === "function" ? v.bind(g) : v;
              },
            }) as EngineGroup;
          };
        }
        if (prop === "setAdapter") {
          return async (file: string | null, scale?: number) => {
            const started = performance.now();
            await target.setAdapter(file, scale);
            current.set_adapter_s += seconds(started);
          };
        }
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const timedLearner = new Proxy(learner, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (prop === "step") {
          return async (...args: Parameters<LearnerDriver["step"]>) => {
            const m = await target.step(...args);
            current.learner_compute_s += m.step_time_s;
            return m;
          };
        }
        if (prop === "exportAdapter" || prop === "saveState") {
          return async (file: string) => {
            const started = performance.now();
            const r = await (target[prop] as (f: string) => Promise<unknown>)(file);
            if (prop === "exportAdapter") current.export_adapter_s += seconds(started);
            else current.save_state_s += seconds(started);
            return r;
          };
        }
        return typeof value === "function" ? value.bind(target) : value;
      },
    });

    const totalSteps = WARMUP_STEPS + MEASURED_STEPS;
    let uploadedBytes = 0;
    let uploads = 0;
    const runStarted = performance.now();
    const outcome = await runTraining({
      ...setup,
      engine: timedEngine,
      learner: timedLearner,
      train,
      // Periodic validation is not part of a training step: it is timed on its own below.
      validation: [],
      workDir: path.join(tmp, "work"),
      maxSteps: 1000,
      shouldStop: () => records.length >= totalSteps,
      events: {
        progress: (p) => {
          current = fresh(p.step);
          void job.worker
            .mutate(ReportRunProgressDocument, { jobId: job.jobId, progress: p })
            .catch((err) => progress(`progress report failed: ${err}`));
        },
        rollouts: (_step, list) => {
          for (const r of list) rolloutStream.enqueue(r);
          current.sampled_tokens += list.reduce((n, r) => n + r.responseTokens, 0);
          current.sequence_tokens += list.reduce((n, r) => n + r.promptTokens + r.responseTokens, 0);
          current.rollouts += list.length;
        },
        metrics: (step, values) => {
          for (const [key, value] of Object.entries(values)) if (Number.isFinite(value)) metricStream.enqueue({ key, step, value });
          if (STAGE_TIME_KEYS.rollout in values) {
            current.reward = values["reward/mean"];
            current.sample_s = values[STAGE_TIME_KEYS.sample];
            current.prompt_s = values[STAGE_TIME_KEYS.prompt];
            current.rollout_s = values[STAGE_TIME_KEYS.rollout];
            current.score_s = values[STAGE_TIME_KEYS.score];
            current.advantages_s = values[STAGE_TIME_KEYS.advantages];
            current.tools_s = values[TOOLS_TIME_KEY];
            current.learner_s = values[STAGE_TIME_KEYS.learn];
            current.adapter_reload_s = values[STAGE_TIME_KEYS.reload];
          }
          if (STEP_TIME_KEY in values) {
            current.step_s = values[STEP_TIME_KEY];
            current.upload_s = values[STAGE_TIME_KEYS.report];
            records.push(current);
            const r = current;
            progress(
              `step ${r.step}${r.step <= WARMUP_STEPS ? " (warm-up)" : ""}: ${r.step_s.toFixed(2)} s = rollout ${r.rollout_s.toFixed(2)} ` +
                `(tools ${r.tools_s.toFixed(3)}) + learner ${r.learner_s.toFixed(2)} + reload ${r.adapter_reload_s.toFixed(3)} + upload ${r.upload_s.toFixed(3)}` +
                `${r.checkpointed ? " [checkpoint]" : ""}, reward ${round(r.reward, 3)}`,
            );
          }
        },
        checkpoint: async (step, files) => {
          current.checkpointed = true;
          const flushStarted = performance.now();
          await outbox.flush();
          checkStreams();
          current.outbox_flush_s += seconds(flushStarted);
          const uploadStarted = performance.now();
          for (const [kind, file, name] of [
            ["ADAPTER", files.adapter, `adapter-step-${step}.gguf`],
            ["CHECKPOINT", files.checkpoint, `checkpoint-step-${step}.icrl`],
          ] as const) {
            const r = await uploadArtifact(job.worker, { jobId: job.jobId, kind, name, step, file });
            uploadedBytes += r.bytes;
            uploads++;
          }
          current.upload_http_s += seconds(uploadStarted);
        },
        flush: async () => {
          await outbox.flush();
          checkStreams();
        },
      },
    });
    const runS = seconds(runStarted);
    await outbox.close();
    checkStreams();
    if (outcome.lastStep !== totalSteps) throw new Error(`expected ${totalSteps} steps, ran ${outcome.lastStep}`);

    // Validation as the demo runs it (zero-shot, 16 held-out questions, every 4 steps), timed on its own.
    const validationStarted = performance.now();
    await evaluateZeroShot(setup, held);
    const validationS = seconds(validationStarted);
    const loadEnd = os.loadavg()[0];

    const measured = records.filter((r) => r.step > WARMUP_STEPS);
    const sum = (f: (r: StepRecord) => number) => measured.reduce((n, r) => n + f(r), 0);
    const total = sum((r) => r.step_s);
    const share = (f: (r: StepRecord) => number) => round(sum(f) / total, 4);
    const meanS = (f: (r: StepRecord) => number) => round(sum(f) / measured.length, 3);
    // Parts (seconds per step), which add up to step_s.
    const generation = (r: StepRecord) => r.in_rollout_group_s - r.tools_s;
    const groupOpenDispose = (r: StepRecord) => r.open_group_s + r.dispose_group_s;
    // Sampling questions, prompts, scoring and advantages, plus the rollout stage's own work around the groups.
    const promptScoring = (r: StepRecord) =>
      r.sample_s + r.prompt_s + r.score_s + r.advantages_s + (r.rollout_s - r.in_rollout_group_s - r.open_group_s - r.dispose_group_s);
    const beforeLearner = (r: StepRecord) => r.sample_s + r.prompt_s + r.rollout_s + r.score_s + r.advantages_s;
    const rest = (r: StepRecord) => r.step_s - beforeLearner(r) - r.learner_s - r.adapter_reload_s - r.upload_s;
    const overhead = (r: StepRecord) => r.step_s - generation(r) - r.learner_s;
    const overheadByTimers = (r: StepRecord) => r.step_s - (r.rollout_s - r.tools_s) - r.learner_s;
    const checkpointSteps = measured.filter((r) => r.checkpointed);
    const plainSteps = measured.filter((r) => !r.checkpointed);
    const meanOf = (rs: StepRecord[], f: (r: StepRecord) => number) => (rs.length ? round(rs.reduce((n, r) => n + f(r), 0) / rs.length, 3) : NaN);

    return {
      model: `lookup llama ${LOOKUP_MODEL_SHAPE.layers}x${LOOKUP_MODEL_SHAPE.dim}, byte vocab, ${PRETRAIN_STEPS} pre-training steps; LoRA r${config.lora.rank}`,
      setup: `G ${config.grpo.groupSize} x ${config.grpo.questionsPerStep} questions, 3-shot, ${config.rollout.maxToolTurns} tool turns, ${config.rollout.maxTurnTokens}/${config.rollout.maxTotalTokens} tokens, checkpoint every ${config.checkpointEvery}`,
      engine: `${engine.backend}, threads ${engine.threads}`,
      learner: `${init.device}, threads ${learnerThreads}`,
      measured_steps: measured.length,
      checkpointed_steps: checkpointSteps.length,
      load_avg_start: round(loadStart, 2),
      load_avg_end: round(loadEnd, 2),
      run_s: round(runS, 1),
      step_s_mean: meanS((r) => r.step_s),
      step_s_mean_plain: meanOf(plainSteps, (r) => r.step_s),
      step_s_mean_checkpointed: meanOf(checkpointSteps, (r) => r.step_s),
      response_tokens_per_step: meanS((r) => r.sampled_tokens),
      tokens_per_sequence: round(sum((r) => r.sequence_tokens) / sum((r) => r.rollouts), 1),
      // Shares of total step time over the measured steps; the first eight add up to 1.
      generation_share: share(generation),
      tools_share: share((r) => r.tools_s),
      group_open_dispose_share: share(groupOpenDispose),
      prompt_scoring_share: share(promptScoring),
      learner_share: share((r) => r.learner_s),
      adapter_reload_share: share((r) => r.adapter_reload_s),
      upload_share: share((r) => r.upload_s),
      other_share: share(rest),
      overhead_share: share(overhead),
      overhead_share_by_timers: share(overheadByTimers),
      // Seconds per step (means over the measured steps).
      rollout_s: meanS((r) => r.rollout_s),
      tools_s: meanS((r) => r.tools_s),
      generation_s: meanS(generation),
      group_open_dispose_s: meanS(groupOpenDispose),
      prompt_scoring_s: meanS(promptScoring),
      learner_s: meanS((r) => r.learner_s),
      learner_compute_s: meanS((r) => r.learner_compute_s),
      adapter_reload_s: meanS((r) => r.adapter_reload_s),
      export_adapter_s: meanS((r) => r.export_adapter_s),
      set_adapter_s: meanS((r) => r.set_adapter_s),
      upload_s: meanS((r) => r.upload_s),
      other_s: meanS(rest),
      overhead_s: meanS(overhead),
      // Checkpointed steps only: where upload_s goes.
      checkpoint_upload_s: meanOf(checkpointSteps, (r) => r.upload_s),
      checkpoint_save_state_s: meanOf(checkpointSteps, (r) => r.save_state_s),
      checkpoint_outbox_flush_s: meanOf(checkpointSteps, (r) => r.outbox_flush_s),
      checkpoint_http_upload_s: meanOf(checkpointSteps, (r) => r.upload_http_s),
      uploaded_kb_per_checkpoint: round(uploadedBytes / 1024 / Math.max(1, uploads / 2), 1),
      validation_s: round(validationS, 2),
      // runTraining runs validation inside the step (step_s has no timer of its own for it): with the
      // demo's every-4-steps validation amortized over the steps, all of it counted as overhead.
      overhead_share_with_validation: round(
        (sum(overhead) + (validationS * measured.length) / config.validation.every) /
          (total + (validationS * measured.length) / config.validation.every),
        4,
      ),
    };
  } finally {
    await setup?.close().catch(() => undefined);
    await learner.shutdown().catch(() => undefined);
    await engine?.dispose().catch(() => undefined);
    await cp.close().catch(() => undefined);
    await rm(tmp, { recursive: true, force: true });
  }
}
