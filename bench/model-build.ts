// Write rate of `icrl model build` (worker/engine/model-build/): the Qwen2.5-0.5B shape (~1 GB in
// F16/BF16) in each storage type (header, weights, rename; the vocabulary is read once first and timed
// on its own, as every run of the command pays it once), against the in-memory `icrl model tiny` writer run in the same process on a smaller shape (it builds
// every tensor as float32 first, ~3 MB/s, so the baseline stays short). Files go to a temp dir and are
// deleted after each measurement. Also reports CPU seconds, since the machine may be shared.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { BUILD_WEIGHT_TYPES, buildModel, planModel } from "../worker/engine/model-build/build-model.js";
import { writeTinyModel } from "../worker/engine/tiny-model.js";
import { progress, round } from "./support/stats.js";

const SHAPE = "qwen2.5-0.5b";
// The baseline: llama 2 x 512, FF 1536, vocabulary 8192 untied: 15M parameters, 30 MB in F16.
const BASELINE = { arch: "llama", layers: 2, dim: 512, heads: 8, kvHeads: 4, ff: 1536, vocabSize: 8192, weightType: "f16", seed: 1 } as const;

function measure(run: () => number): { seconds: number; cpuSeconds: number; bytes: number } {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const bytes = run();
  const used = process.cpuUsage(cpu);
  return { seconds: (performance.now() - started) / 1000, cpuSeconds: (used.user + used.system) / 1e6, bytes };
}

export default async function modelBuildBench(): Promise<Record<string, number | string>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "icrl-bench-model-build-"));
  const out = path.join(dir, "model.gguf");
  const figures: Record<string, number | string> = { shape: SHAPE, load_average_1m: round(os.loadavg()[0]), cpus: os.availableParallelism() };
  try {
    progress("reading the Qwen vocabulary");
    const vocabulary = measure(() => planModel({ shape: SHAPE }).bytes);
    figures.vocabulary_and_header_seconds = round(vocabulary.seconds);
    for (const type of BUILD_WEIGHT_TYPES) {
      progress(`building ${SHAPE} ${type}`);
      const m = measure(() => buildModel({ shape: SHAPE, type, out }).bytes);
      fs.rmSync(out, { force: true });
      figures[`${type}_mb`] = Math.round(m.bytes / 1e6);
      figures[`${type}_seconds`] = round(m.seconds);
      figures[`${type}_mb_per_s`] = Math.round(m.bytes / 1e6 / m.seconds);
      figures[`${type}_cpu_seconds`] = round(m.cpuSeconds);
    }
    progress("baseline: icrl model tiny writer");
    const b = measure(() => writeTinyModel({ ...BASELINE, out }).bytes);
    fs.rmSync(out, { force: true });
    figures.baseline = `icrl model tiny ${BASELINE.layers}x${BASELINE.dim} ff ${BASELINE.ff} vocab ${BASELINE.vocabSize} ${BASELINE.weightType}`;
    figures.baseline_mb = Math.round(b.bytes / 1e6);
    figures.baseline_seconds = round(b.seconds);
    figures.baseline_mb_per_s = round(b.bytes / 1e6 / b.seconds, 1);
    figures.bf16_speedup_vs_baseline = Math.round((figures.bf16_mb_per_s as number) / (figures.baseline_mb_per_s as number));
    figures.load_average_1m_after = round(os.loadavg()[0]);
    return figures;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
