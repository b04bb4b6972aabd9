// Rollout throughput: model-sampled tokens per second of the full ICRL loop with real tools (BM25
// search over the HotpotQA passages) against node-llama-cpp sampling the same number of tokens per
// sequence in one go, in the same process, for groups of G = 1, 8 and 16. See BENCHMARKS.md "rollout".
//
// The policy is a tiny model (writeTinyModel's shapes: 2 layers x 128) whose weights make it write
// search calls (bench/support/tool-calling-model.ts), so turns really end on </search>, the tool
// really runs and its result is really evaluated. A tools-off variant at G=8 (one long turn per
// rollout, no tool call) shows the loop's per-token overhead alone.
//
// A 3-shot part (bench/support/prefill-runs.ts) times one group whose long prompt is most of the work,
// with the prompt evaluated once per group (the engine's default) against once per sequence.
// ICRL_BENCH_ROLLOUT_PARTS=prefill runs that part alone (a few minutes; no HotpotQA needed).
//
// CPU by default. ICRL_BENCH_GPU=cuda (or vulkan, metal) runs both sides on that llama.cpp backend
// with every layer offloaded; ICRL_BENCH_FLASH_ATTENTION=on|off|auto overrides the engine's flash-
// attention default (off on the CPU, the library's "auto" on GPUs) on both sides.
import fs from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import type { LlamaModel } from "node-llama-cpp";
import { loadLlamaEngine, type LlamaEngine, loadLlama } from "../worker/engine/index.js";
import { QA_SEARCH_TEMPLATE, renderPrompt, type RolloutOptions } from "../worker/icrl/index.js";
import { buildTools, type ToolSet } from "../worker/tools/index.js";
import { runLoop, runRaw, runReplay, type LoopRun, type RawContextOptions, type TimedRun } from "./support/rollout-runs.js";
import { HOTPOTQA_PASSAGES, hotpotQuestions } from "./support/hotpotqa.js";
import { measurePrefill } from "./support/prefill-runs.js";
import { progress, round } from "./support/stats.js";
import { writeToolCallingModel } from "./support/tool-calling-model.js";

const GROUP_SIZES = [1, 8, 16] as const;
/** Measured repetitions per group size, reported as medians (one warm-up trial runs first). */
const REPEATS: Record<number, number> = { 1: 5, 8: 3, 16: 3 };
const THREADS = 1;
const GPU = (process.env.ICRL_BENCH_GPU ?? "cpu") as "cpu" | "cuda" | "vulkan" | "metal";
if (!["cpu", "cuda", "vulkan", "metal"].includes(GPU)) throw new Error(`ICRL_BENCH_GPU must be cpu, cuda, vulkan or metal (got ${GPU})`);
const FLASH_ATTENTION = ({ on: true, off: false, auto: "auto" } as const)[process.env.ICRL_BENCH_FLASH_ATTENTION ?? ""];
if (process.env.ICRL_BENCH_FLASH_ATTENTION && FLASH_ATTENTION === undefined) throw new Error("ICRL_BENCH_FLASH_ATTENTION must be on, off or auto");
/**
 * Fixed here rather than taken from the loop's defaults, so the figures in BENCHMARKS.md stay comparable:
 * maxTokensPerTurn 300 because the model never writes </answer>, so the final tools-off turn runs to the
 * cap, and 300 keeps that turn near the length of two tool turns while tools-on turns (about 100 tokens)
 * rarely reach it.
 */
const PARTS = process.env.ICRL_BENCH_ROLLOUT_PARTS ?? "all";
if (!["all", "prefill"].includes(PARTS)) throw new Error(`ICRL_BENCH_ROLLOUT_PARTS must be all or prefill (got ${PARTS})`);
const LIMITS = { maxToolTurns: 6, maxTokensPerTurn: 300, maxResponseTokens: 4096, maxObservationTokens: 500 };

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const tokS = (run: TimedRun) => (run.sampledTokens / run.wallMs) * 1000;

interface Setup {
  engine: LlamaEngine;
  model: LlamaModel;
  promptIds: number[];
  tokensPerSequence: number;
  options: RolloutOptions;
}

async function open(modelPath: string, tools: ToolSet): Promise<Setup> {
  const gpu = GPU === "cpu" ? false : GPU;
  const engine = await loadLlamaEngine({ modelPath, threads: THREADS, gpu, gpuLayers: gpu ? "max" : undefined, flashAttention: FLASH_ATTENTION });
  if (engine.backend !== GPU) throw new Error(`asked for ${GPU}, the engine runs on ${engine.backend}`);
  const llama = await loadLlama(gpu);
  const model = await llama.loadModel({ modelPath, gpuLayers: gpu ? "max" : 0 });
  const [question] = hotpotQuestions(1);
  // Zero-shot keeps the prompt short: its prefill is the same work in every run and only dilutes the ratio.
  const prompt = renderPrompt(engine, { question: question.question, questionId: question.question_id, shots: 0, template: QA_SEARCH_TEMPLATE });
  const options: RolloutOptions = { tools: [tools.get("search")!], messages: QA_SEARCH_TEMPLATE, ...LIMITS };
  return { engine, model, promptIds: prompt.tokens, tokensPerSequence: prompt.tokens.length + LIMITS.maxResponseTokens + 8, options };
}

async function close(setup: Setup): Promise<void> {
  await setup.engine.dispose();
  await setup.model.dispose();
}

interface Trial {
  loop: LoopRun;
  raw: TimedRun;
  replay: TimedRun;
}

/** loop, then raw and replay (alternating order) on exactly the loop's token counts. */
async function trial(setup: Setup, size: number, seed: number): Promise<Trial> {
  const context: RawContextOptions = { threads: THREADS, tokensPerSequence: setup.tokensPerSequence, flashAttention: setup.engine.flashAttention };
  const sampling = { temperature: 1, topK: 0, topP: 1, minP: 0, seed };
  const loop = await runLoop(setup.engine, size, setup.tokensPerSequence, setup.promptIds, { ...setup.options, sampling });
  const raw = () => runRaw(setup.model, setup.promptIds, loop.shapes, context, seed);
  const replay = () => runReplay(setup.model, setup.promptIds, loop.shapes, context, seed);
  if (seed % 2 === 0) {
    const r = await raw();
    return { loop, raw: r, replay: await replay() };
  }
  const p = await replay();
  return { loop, raw: await raw(), replay: p };
}

async function measure(label: string, setup: Setup, size: number, repeats: number): Promise<Trial[]> {
  const trials: Trial[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = await trial(setup, size, 1 + i);
    trials.push(t);
    progress(
      `${label} G=${size} #${i + 1}: loop ${round(tokS(t.loop), 0)} tok/s, raw ${round(tokS(t.raw), 0)}` +
        `, replay ${round(tokS(t.replay), 0)}` +
        ` (${t.loop.sampledTokens} sampled tokens, load ${round(loadavg()[0], 1)})`,
    );
  }
  return trials;
}

/** What the loop's rollouts looked like: per rollout means over all measured trials. */
function workload(trials: Trial[]): Record<string, number> {
  const rollouts = trials.flatMap((t) => t.loop.rollouts);
  const mean = (f: (r: (typeof rollouts)[number]) => number) => round(rollouts.reduce((n, r) => n + f(r), 0) / rollouts.length, 1);
  const loopMs = trials.reduce((n, t) => n + t.loop.wallMs * t.loop.rollouts.length, 0);
  return {
    sampled_tokens_per_rollout: mean((r) => r.modelTokens),
    inserted_tokens_per_rollout: mean((r) => r.responseTokens - r.modelTokens),
    turns_per_rollout: mean((r) => r.turns),
    tool_calls_per_rollout: mean((r) => r.toolCallsValid),
    invalid_calls_per_rollout: mean((r) => r.toolCallsInvalid),
    corrections_per_rollout: mean((r) => r.corrections),
    // Share of each rollout's wall time spent waiting for its tool calls (other sequences keep decoding meanwhile).
    tool_time_share: round(rollouts.reduce((n, r) => n + r.timing.toolMs, 0) / loopMs, 4),
  };
}

export default async function bench(): Promise<Record<string, number | string>> {
  const loadAtStart = round(loadavg()[0], 1);
  const dir = fs.mkdtempSync(path.join(tmpdir(), "icrl-bench-rollout-"));
  const figures: Record<string, number | string> = {};
  let tools: ToolSet | null = null;
  try {
    if (PARTS === "all") tools = await measureThroughput(dir, figures);
    Object.assign(figures, await measurePrefill(dir, THREADS, GPU === "cpu" ? false : GPU, () => loadavg()[0]));
  } finally {
    await tools?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  figures.backend = GPU;
  figures.threads = THREADS;
  figures.load_avg_1m_at_start = loadAtStart;
  figures.load_avg_1m_at_end = round(loadavg()[0], 1);
  return figures;
}

/** Loop, raw and replay throughput for G = 1, 8, 16 and tools off; returns the tools to close. */
async function measureThroughput(dir: string, figures: Record<string, number | string>): Promise<ToolSet> {
  let tools: ToolSet | null = null;
  try {
    progress(`building the search index over ${HOTPOTQA_PASSAGES}`);
    tools = await buildTools(
      { search: { kind: "local", corpus: HOTPOTQA_PASSAGES, cacheDir: path.join(dir, "search-cache") } },
      // The tiny models' vocabulary is bytes: one token per UTF-8 byte.
      { countTokens: (text) => Buffer.byteLength(text, "utf8") },
    );

    const modelPath = writeToolCallingModel({ out: path.join(dir, "bigram-search.gguf"), context: 8192 });
    const setup = await open(modelPath, tools);
    figures.prompt_tokens = setup.promptIds.length;
    figures.flash_attention = String(setup.engine.flashAttention);
    try {
      progress("warm-up (JIT, page cache, first contexts)");
      await trial(setup, 2, 999);
      const all: Trial[] = [];
      for (const size of GROUP_SIZES) {
        const trials = await measure("tools", setup, size, REPEATS[size]);
        all.push(...trials);
        const ratio = median(trials.map((t) => tokS(t.loop) / tokS(t.raw)));
        figures[`g${size}_loop_tok_s`] = round(median(trials.map((t) => tokS(t.loop))), 0);
        figures[`g${size}_raw_tok_s`] = round(median(trials.map((t) => tokS(t.raw))), 0);
        figures[`g${size}_ratio`] = round(ratio, 3);
        figures[`g${size}_replay_tok_s`] = round(median(trials.map((t) => tokS(t.replay))), 0);
        figures[`g${size}_ratio_vs_replay`] = round(median(trials.map((t) => tokS(t.loop) / tokS(t.replay))), 3);
      }
      figures.ratio_vs_raw = figures.g8_ratio;
      Object.assign(figures, workload(all));

      // Tools off: the tools-disabled notice, then one turn of maxTokensPerTurn tokens (the model never
      // writes </answer>): stop-string scanning on every token, no tool call, almost nothing inserted.
      const toolsOff = { ...setup, options: { ...setup.options, tools: [], maxToolTurns: 0, maxTokensPerTurn: 500 } };
      const trials = await measure("tools off", toolsOff, 8, REPEATS[8]);
      figures.tools_off_g8_loop_tok_s = round(median(trials.map((t) => tokS(t.loop))), 0);
      figures.tools_off_g8_raw_tok_s = round(median(trials.map((t) => tokS(t.raw))), 0);
      figures.tools_off_g8_ratio = round(median(trials.map((t) => tokS(t.loop) / tokS(t.raw))), 3);
      figures.tools_off_g8_ratio_vs_replay = round(median(trials.map((t) => tokS(t.loop) / tokS(t.replay))), 3);
    } finally {
      await close(setup);
    }
    return tools;
  } catch (error) {
    await tools?.close();
    throw error;
  }
}
