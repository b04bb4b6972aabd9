// One ICRL step at a real model size: a Qwen2.5-7B-shaped BF16 GGUF with the real Qwen tokenizer,
// built on the spot (random weights: no weights can be downloaded here, and the step's cost does not
// depend on what the weights say), loaded in the CUDA engine and the CUDA learner, then one training
// step of the TRAIN job's own loop: G = 8 rollouts for each of 4 questions, 3-shot prompts with the
// built-in QA demonstrations, the search tool over HotpotQA passages, responses capped so the step
// fits, one GRPO update, the adapter exported and hot-loaded. It prints seconds per stage, sampled and
// prefilled tokens per second, learner tokens per second and the peak memory of both processes.
// Everything, the build included, must fit in 8 minutes on one GPU.
//
// Without an NVIDIA GPU it stops at once and says why. ICRL_BENCH_GPU_STEP=cpu runs the same script on
// the CPU at the Qwen2.5-0.5B shape with a smaller workload (one question, G = 4, shorter responses),
// since the GPU workload would take hours on a 2-core machine: those figures are the CPU's, not a
// prediction of the GPU's.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { runConfigSchema, STAGE_TIME_KEYS, STEP_TIME_KEY, TOOLS_TIME_KEY } from "../contracts/index.js";
import { type Engine, type EngineGroup, loadLlamaEngine, type LlamaEngine } from "../worker/engine/index.js";
import { defaultDemonstrationsFor, QA_SEARCH_TEMPLATE, renderPrompt } from "../worker/icrl/index.js";
import { LearnerDriver, type StepMetrics, type TrainingSample } from "../worker/learner/index.js";
import { runTraining, setUpTraining, type TrainingItem, type TrainingSetup } from "../worker/training/index.js";
import { buildModel, type ModelShapeName } from "../worker/engine/files.js";
import { HOTPOTQA_PASSAGES, hotpotQuestions } from "./support/hotpotqa.js";
import { GpuMemorySampler, nvidiaGpu, peakRssMib } from "./support/peak-memory.js";
import { progress, round } from "./support/stats.js";

interface Plan {
  device: "cuda" | "cpu";
  shape: ModelShapeName;
  groupSize: number;
  questions: number;
  maxToolTurns: number;
  maxTurnTokens: number;
  maxTotalTokens: number;
  /** The run config's learner memory settings, as README's GPU section recommends for a real model. */
  learner: { dtype: "float32" | "bfloat16"; gradientCheckpointing: boolean };
}

const PLANS: Record<"cuda" | "cpu", Plan> = {
  // 7B in float32 is 30 GB of frozen weights beside the engine's 15 GB, and an 8,192-token micro-batch
  // without checkpointing keeps every layer's activations: bfloat16 and checkpointing are what fit.
  cuda: {
    device: "cuda",
    shape: "qwen2.5-7b",
    groupSize: 8,
    questions: 4,
    maxToolTurns: 2,
    maxTurnTokens: 128,
    maxTotalTokens: 256,
    learner: { dtype: "bfloat16", gradientCheckpointing: true },
  },
  // float32 as in the first CPU figures, so that they differ from these in checkpointing alone, which
  // bounds the activations (17.5 GB of RSS for 4 sequences without it).
  cpu: {
    device: "cpu",
    shape: "qwen2.5-0.5b",
    groupSize: 4,
    questions: 1,
    maxToolTurns: 1,
    maxTurnTokens: 24,
    maxTotalTokens: 48,
    learner: { dtype: "float32", gradientCheckpointing: true },
  },
};

function questions(n: number): TrainingItem[] {
  return hotpotQuestions(n).map((q) => ({ id: q.question_id, question: q.question, golds: q.golden_answers }));
}

const seconds = (since: number) => (performance.now() - since) / 1000;

/** One group's 3-shot prompt evaluated and one token sampled per sequence: prefill tokens per second. */
async function prefillProbe(engine: Engine, question: TrainingItem, groupSize: number) {
  const prompt = renderPrompt(engine, {
    question: question.question,
    questionId: question.id,
    shots: 3,
    template: QA_SEARCH_TEMPLATE,
    demonstrations: defaultDemonstrationsFor("qa"),
  });
  const group = await engine.openGroup(groupSize, { tokensPerSequence: prompt.tokens.length + 8 });
  try {
    const started = performance.now();
    group.appendShared(prompt.tokens);
    await Promise.all(group.sequences.map((s) => s.generate({ maxTokens: 1, stopStrings: [], sampling: { temperature: 1, seed: 1 } })));
    const s = seconds(started);
    const evaluated = group.promptTokensEvaluated ?? Number.NaN;
    return { promptTokens: prompt.tokens.length, evaluated, seconds: s, tokensPerS: evaluated / s };
  } finally {
    await group.dispose();
  }
}

export default async function gpuStepBench(): Promise<Record<string, number | string>> {
  const mode = process.env.ICRL_BENCH_GPU_STEP ?? "cuda";
  if (mode !== "cuda" && mode !== "cpu") throw new Error(`ICRL_BENCH_GPU_STEP must be cuda or cpu (got ${mode})`);
  const plan = PLANS[mode];
  const gpu = nvidiaGpu();
  if (plan.device === "cuda" && !gpu.present) {
    return { skipped: `${gpu.reason}; this benchmark needs an NVIDIA GPU (ICRL_BENCH_GPU_STEP=cpu runs the CPU fallback at the Qwen2.5-0.5B shape)` };
  }
  const loadStart = os.loadavg()[0];
  const started = performance.now();
  const dir = await mkdtemp(path.join(os.tmpdir(), "icrl-bench-gpu-step-"));
  const sampler = plan.device === "cuda" ? new GpuMemorySampler() : null;
  sampler?.start();
  let engine: LlamaEngine | null = null;
  let setup: TrainingSetup | null = null;
  const learner = LearnerDriver.start();
  try {
    const modelPath = path.join(dir, `${plan.shape}-bf16.gguf`);
    progress(`building ${modelPath} (${plan.shape}, BF16, Qwen2.5 tokenizer)`);
    const built = await buildModel({ out: modelPath, shape: plan.shape, tokenizer: "qwen2.5", type: "bf16", seed: 1 });
    progress(`built ${(built.bytes / 1e9).toFixed(2)} GB in ${built.seconds.toFixed(1)} s`);

    const prompts = questions(plan.questions);
    const config = runConfigSchema.parse({
      model: { path: modelPath, contextSize: 4096 },
      task: "qa",
      dataset: { id: "00000000-0000-0000-0000-000000000000" },
      tools: {
        search: { kind: "local", corpus: HOTPOTQA_PASSAGES, cacheDir: path.join(dir, "search-cache"), topK: 3, maxTokens: 500 },
      },
      curriculum: { stages: [{ shots: 3, steps: 1 }] },
      grpo: { groupSize: plan.groupSize, questionsPerStep: plan.questions, lr: 1e-5 },
      lora: { rank: 16, alpha: 32 },
      rollout: { maxToolTurns: plan.maxToolTurns, maxTurnTokens: plan.maxTurnTokens, maxTotalTokens: plan.maxTotalTokens },
      checkpointEvery: 1000,
      learner: { device: plan.device, ...plan.learner },
      seed: 1,
    });

    let t = performance.now();
    engine = await loadLlamaEngine({
      modelPath,
      gpu: plan.device === "cuda" ? "cuda" : false,
      gpuLayers: plan.device === "cuda" ? "max" : undefined,
      contextSize: config.model.contextSize,
    });
    const engineLoadS = seconds(t);
    t = performance.now();
    setup = await setUpTraining({ config, engine, learner, learnerThreads: plan.device === "cpu" ? engine.threads : undefined });
    const learnerInitS = seconds(t);
    progress(
      `engine ${engine.backend} loaded in ${engineLoadS.toFixed(1)} s; learner on ${setup.learnerInfo.device} in ${learnerInitS.toFixed(1)} s`,
    );

    const probe = await prefillProbe(engine, prompts[0], plan.groupSize);
    progress(
      `prefill: ${probe.evaluated} tokens for a ${probe.promptTokens}-token 3-shot prompt x G=${plan.groupSize} in ${probe.seconds.toFixed(1)} s`,
    );

    const groups: EngineGroup[] = [];
    const countingEngine = new Proxy(engine as Engine, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (prop === "openGroup") {
          return async (size: number, options?: { tokensPerSequence?: number }) => {
            const group = await target.openGroup(size, options);
            groups.push(group);
            return group;
          };
        }
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    let metrics: Record<string, number> = {};
    let learnerStep: StepMetrics | null = null;
    let samples: TrainingSample[] = [];
    const timedLearner = new Proxy(learner, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (prop === "step") {
          return async (batch: TrainingSample[]) => {
            samples = batch;
            learnerStep = await target.step(batch);
            return learnerStep;
          };
        }
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    let promptTokens = 0;
    let rolloutCount = 0;
    await runTraining({
      ...setup,
      engine: countingEngine,
      learner: timedLearner,
      train: prompts,
      validation: [],
      workDir: path.join(dir, "work"),
      maxSteps: 1,
      shouldStop: () => false,
      events: {
        rollouts: (_step, records) => {
          rolloutCount += records.length;
          for (const r of records) if (r.sampleIndex === 0) promptTokens += r.promptTokens;
        },
        metrics: (_step, values) => {
          metrics = { ...metrics, ...values };
        },
        progress: () => {},
        checkpoint: async () => {},
      },
    });
    await sampler?.stop();
    const step = learnerStep as StepMetrics | null;
    if (!step) throw new Error("the step ran no learner update");

    const sampledTokens = samples.reduce((n, s) => n + s.mask.reduce((a, b) => a + b, 0), 0);
    const sequenceTokens = samples.reduce((n, s) => n + s.tokens.length, 0);
    const stage = (key: string) => round(metrics[key] ?? Number.NaN, 2);
    const rolloutS = metrics[STAGE_TIME_KEYS.rollout];
    const memory: Record<string, number> =
      plan.device === "cuda"
        ? { engine_gpu_peak_mib: sampler!.peakMib(process.pid), learner_gpu_peak_mib: sampler!.peakMib(learner.pid) }
        : {
            engine_rss_peak_mib: round(peakRssMib(process.pid) ?? Number.NaN, 0),
            learner_rss_peak_mib: round(peakRssMib(learner.pid!) ?? Number.NaN, 0),
          };
    return {
      device:
        plan.device === "cuda" && gpu.present ? `cuda (${gpu.name})` : `cpu (${os.availableParallelism()} cores, engine threads ${engine.threads})`,
      model: `${plan.shape} BF16, Qwen2.5 tokenizer, ${round(built.parameters / 1e9, 2)}B parameters, ${round(built.bytes / 1e9, 2)} GB`,
      learner: `${plan.learner.dtype} base weights, gradient checkpointing ${plan.learner.gradientCheckpointing ? "on" : "off"}`,
      workload: `${plan.questions} questions x G=${plan.groupSize}, 3-shot, search top-3, <= ${plan.maxToolTurns} tool turns, ${plan.maxTurnTokens} tokens a turn, ${plan.maxTotalTokens} a rollout`,
      build_s: round(built.seconds, 1),
      build_mb_per_s: round(built.bytes / 1e6 / built.seconds, 0),
      engine_load_s: round(engineLoadS, 1),
      learner_init_s: round(learnerInitS, 1),
      step_s: stage(STEP_TIME_KEY),
      prompt_s: stage(STAGE_TIME_KEYS.prompt),
      rollout_s: stage(STAGE_TIME_KEYS.rollout),
      tools_s: stage(TOOLS_TIME_KEY),
      score_s: stage(STAGE_TIME_KEYS.score),
      learner_s: stage(STAGE_TIME_KEYS.learn),
      adapter_reload_s: stage(STAGE_TIME_KEYS.reload),
      rollouts: rolloutCount,
      prompt_tokens_per_group: round(promptTokens / plan.questions, 0),
      prompt_tokens_evaluated_per_group: round(groups.reduce((n, g) => n + (g.promptTokensEvaluated ?? Number.NaN), 0) / groups.length, 0),
      prefill_probe_tokens: probe.evaluated,
      prefill_probe_s: round(probe.seconds, 2),
      prefill_tokens_per_s: round(probe.tokensPerS, 0),
      sampled_tokens: sampledTokens,
      sampled_tokens_per_s: round(sampledTokens / rolloutS, 1),
      learner_sequence_tokens: sequenceTokens,
      learner_tokens_per_s: round(sequenceTokens / step.step_time_s, 0),
      ...memory,
      total_s: round(seconds(started), 1),
      load_avg_start: round(loadStart, 1),
      load_avg_end: round(os.loadavg()[0], 1),
    };
  } finally {
    await sampler?.stop();
    await setup?.close().catch(() => undefined);
    await engine?.dispose().catch(() => undefined);
    await learner.shutdown().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}
