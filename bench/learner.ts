// Learner step throughput (trained tokens/s) against a bare PyTorch forward + backward of the same model
// and tokens in the same process (icrl_learner/bench.py times both). Target: ratio_vs_torch >= 0.8.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { writeTinyModel } from "../worker/engine/tiny-model.js";
import { LearnerDriver } from "../worker/learner/index.js";

// A llama-shaped model big enough for matmuls to dominate on a CPU: 4 x 512 wide, GQA 8/4, vocab 8192.
const MODEL = { arch: "llama", dim: 512, layers: 4, heads: 8, kvHeads: 4, ff: 1408, vocabSize: 8192, context: 1024, seed: 0, std: 0.08 } as const;
const BATCH = { batch_size: 8, seq_len: 256, prompt_len: 128, iterations: 3, warmup: 1 };

export default async function learnerBench(): Promise<Record<string, number | string>> {
  const python = process.env.ICRL_PYTHON ?? "/usr/bin/python3";
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "icrl-bench-learner-"));
  const learner = LearnerDriver.start({ python });
  try {
    const modelPath = path.join(dir, "bench.gguf");
    writeTinyModel({ ...MODEL, out: modelPath });
    const info = await learner.init({ model_path: modelPath, lora: { rank: 32, alpha: 32 }, device: "auto", threads: os.availableParallelism() });
    const r = await learner.bench(BATCH);
    const round = (x: number, digits = 3) => Number(x.toPrecision(digits));
    return {
      device: r.device,
      threads: r.threads,
      model: `${MODEL.arch} ${MODEL.layers}x${MODEL.dim} vocab ${MODEL.vocabSize} (${(info.n_params / 1e6).toFixed(1)}M params, LoRA r32 on all projections)`,
      batch: `${r.batch_size} x ${r.seq_len} tokens, ${r.trained_tokens_per_step} trained`,
      tokens_per_s: round(r.tokens_per_s),
      torch_tokens_per_s: round(r.torch_tokens_per_s),
      ratio_vs_torch: round(r.ratio_vs_torch),
      tokens_per_s_without_kl: round(r.tokens_per_s_without_kl),
      ratio_vs_torch_without_kl: round(r.ratio_vs_torch_without_kl),
      step_s: round(r.step_s),
      torch_step_s: round(r.torch_step_s),
    };
  } finally {
    await learner.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
