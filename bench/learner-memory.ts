// Peak learner memory of one GRPO step (forward + backward, entropy bonus included) on one 4,096-token
// sequence with every position trained, at Qwen2.5's vocabulary of 151,936 rows, with log-probs computed
// in chunks of positions (the learner's default, 512, and 1,024) against all positions at once (0, the
// old path). A tiny body (2 x 128): the vocabulary-sized logits are what the chunking is about. Each
// figure is ru_maxrss of a fresh Python process (icrl_learner/memory_probe.py); the unchunked step runs
// under an address-space cap (ICRL_PROBE_MAX_GB, default 16) so that on a shared machine it fails in its
// own process rather than waking the OOM killer. See BENCHMARKS.md "learner-memory".
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { writeTinyModel } from "../worker/engine/tiny-model.js";
import { LEARNER_DIR } from "../worker/learner/driver.js";
import { progress, round } from "./support/stats.js";

const MODEL = { arch: "llama", layers: 2, dim: 128, heads: 4, kvHeads: 2, ff: 384, vocabSize: 151_936, context: 8192, seed: 0, std: 0.08 } as const;
const TOKENS = 4096;
/** Chunked first: they are small; the unchunked step last, when nothing else of ours holds memory. */
const CHUNKS = [512, 1024, 0];

interface Probe {
  tokens: number;
  chunk: number;
  loaded_peak_rss_mb: number;
  peak_rss_mb?: number;
  step_s?: number;
  error?: string;
  peak_rss_mb_before_failing?: number;
  address_space_cap_gb: number;
}

function probe(python: string, modelPath: string, chunk: number): Probe {
  const run = spawnSync(python, ["-m", "icrl_learner.memory_probe", modelPath, String(TOKENS), String(chunk)], {
    cwd: LEARNER_DIR,
    encoding: "utf8",
    timeout: 900_000,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
  });
  if (run.status !== 0) throw new Error(`memory probe (chunk ${chunk}) exited ${run.status}: ${run.stderr.slice(-2000)}`);
  return JSON.parse(run.stdout.trim().split("\n").at(-1)!) as Probe;
}

export default async function learnerMemoryBench(): Promise<Record<string, number | string>> {
  const python = process.env.ICRL_PYTHON ?? "/usr/bin/python3";
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "icrl-bench-learner-memory-"));
  const figures: Record<string, number | string> = {
    model: `${MODEL.arch} ${MODEL.layers}x${MODEL.dim}, vocab ${MODEL.vocabSize}`,
    tokens: TOKENS,
    load_avg_1m_at_start: round(os.loadavg()[0], 1),
  };
  try {
    const modelPath = path.join(dir, "vocab-151936.gguf");
    writeTinyModel({ ...MODEL, out: modelPath });
    for (const chunk of CHUNKS) {
      const p = probe(python, modelPath, chunk);
      const name = chunk === 0 ? "unchunked" : `chunk${chunk}`;
      figures.loaded_peak_rss_mb = p.loaded_peak_rss_mb;
      figures.address_space_cap_gb = p.address_space_cap_gb;
      if (p.error !== undefined) {
        figures[`${name}_error`] = p.error;
        figures[`${name}_peak_rss_mb_before_failing`] = p.peak_rss_mb_before_failing ?? -1;
      } else {
        figures[`${name}_peak_rss_mb`] = p.peak_rss_mb!;
        figures[`${name}_step_s`] = p.step_s!;
      }
      progress(`chunk ${chunk}: ${JSON.stringify(p)} (load ${round(os.loadavg()[0], 1)})`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  figures.load_avg_1m_at_end = round(os.loadavg()[0], 1);
  return figures;
}
