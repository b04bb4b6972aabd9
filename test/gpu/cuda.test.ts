// The CUDA path: engine on the CUDA build of node-llama-cpp and the learner on torch CUDA. These run
// only where an NVIDIA GPU is present (nvidia-smi answers); elsewhere they are skipped, and vitest
// prints the reason in the suite name. On a GPU box: ICRL_PYTHON=<python with torch 2.x + CUDA>
// npx vitest run test/gpu (README.md "GPU workers"; with a CUDA 13.0 driver the prebuilt CUDA binary
// first needs test/gpu/cuda-ptx-for-driver.py). Last run: NVIDIA H100, 2026-11-25 (BENCHMARKS.md "GPU").
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { detectCapabilities } from "../../worker/engine/capabilities.js";
import { loadLlamaEngine } from "../../worker/engine/llama-engine.js";
import { writeTinyModel } from "../../worker/engine/tiny-model.js";
import { LearnerDriver } from "../../worker/learner/driver.js";

function nvidiaGpu(): string | null {
  try {
    return (
      execFileSync("nvidia-smi", ["--query-gpu=name,memory.total", "--format=csv,noheader"], { encoding: "utf8", timeout: 10_000 }).trim() || null
    );
  } catch {
    return null;
  }
}

const gpu = nvidiaGpu();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "icrl-gpu-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!gpu)(`CUDA engine and learner (${gpu ?? "skipped: no NVIDIA GPU on this machine (nvidia-smi not found)"})`, () => {
  it("the worker detects CUDA and the engine generates on it", async () => {
    const caps = await detectCapabilities("cuda");
    expect(caps.backend).toBe("cuda");
    expect(caps.vramBytes).toBeGreaterThan(0);
    const model = path.join(dir, "tiny.gguf");
    writeTinyModel({ out: model, seed: 5 });
    const engine = await loadLlamaEngine({ modelPath: model, gpu: "cuda", exact: true });
    try {
      const group = await engine.openGroup(8, { tokensPerSequence: 256 });
      const prompt = engine.tokenize("hello");
      for (const s of group.sequences) s.append(prompt);
      const turns = await Promise.all(
        group.sequences.map((s, i) => s.generate({ maxTokens: 16, stopStrings: [], sampling: { temperature: 1, topK: 0, seed: i } })),
      );
      expect(turns.every((t) => t.tokens.length > 0)).toBe(true);
      await group.dispose();
    } finally {
      await engine.dispose();
    }
  });

  it("the learner trains on CUDA and its adapter matches the CUDA engine", async () => {
    const model = path.join(dir, "tiny-learner.gguf");
    writeTinyModel({ out: model, seed: 9 });
    const learner = LearnerDriver.start();
    const engine = await loadLlamaEngine({ modelPath: model, gpu: "cuda", exact: true });
    try {
      const init = await learner.init({ model_path: model, device: "cuda", lora: { rank: 8, alpha: 16 }, optim: { lr: 1e-2 } });
      expect(init.device).toMatch(/^cuda/);
      const tokens = Array.from({ length: 64 }, (_, i) => (i * 37) % 250);
      const metrics = await learner.step([{ tokens, mask: tokens.map((_, i) => (i >= 32 ? 1 : 0)), advantage: 1 }]);
      expect(Number.isFinite(metrics.loss)).toBe(true);
      const adapter = await learner.exportAdapter(path.join(dir, "cuda-adapter.gguf"));
      await engine.setAdapter(adapter.path);
      const [fromLearner] = await learner.logprobs({ sequences: [tokens] });
      const fromEngine = await engine.logProbs(tokens);
      const maxDiff = Math.max(...fromLearner.map((v, i) => Math.abs(v - fromEngine[i])));
      // GPU kernels reorder float32 sums; agreement is looser than the CPU's 1e-5.
      expect(maxDiff).toBeLessThan(1e-2);
    } finally {
      await learner.shutdown();
      await engine.dispose();
    }
  });
});

describe("GPU detection", () => {
  it("reports the GPU it found, or none, consistently with the engine", async () => {
    const caps = await detectCapabilities("auto");
    if (gpu) expect(caps.detectedGpuBackends).toContain("cuda");
    else expect(caps.backend).toBe("cpu");
  });
});
