// What this machine can run, for worker registration: the llama.cpp backend that actually loads here
// (from installed binaries only; nothing is built or downloaded), GPU names and VRAM, memory and cores.
import os from "node:os";
import { getLlamaGpuTypes } from "node-llama-cpp";
import { loadLlama, type GpuChoice } from "./llama-loader.js";

export interface EngineCapabilities {
  /** Backend the engine will use: "cpu", "cuda", "vulkan" or "metal". */
  backend: string;
  /** GPU backends whose drivers look present on this machine (whether or not a binary loaded). */
  detectedGpuBackends: string[];
  gpuNames: string[];
  /** Total VRAM in bytes (0 without a GPU). */
  vramBytes: number;
  /** Unified memory shared between CPU and GPU (Apple silicon), in bytes. */
  unifiedMemoryBytes: number;
  totalMemoryBytes: number;
  cpuCores: number;
  platform: string;
  arch: string;
  llamaCppRelease: string;
}

export async function detectCapabilities(gpu: GpuChoice = "auto"): Promise<EngineCapabilities> {
  const llama = await loadLlama(gpu);
  const detected = (await getLlamaGpuTypes("supported")).filter((t): t is Exclude<typeof t, false> => t !== false);
  const vram = await llama.getVramState();
  return {
    backend: llama.gpu === false ? "cpu" : llama.gpu,
    detectedGpuBackends: detected,
    gpuNames: llama.gpu === false ? [] : await llama.getGpuDeviceNames(),
    vramBytes: llama.gpu === false ? 0 : vram.total,
    unifiedMemoryBytes: vram.unifiedSize,
    totalMemoryBytes: os.totalmem(),
    cpuCores: os.availableParallelism(),
    platform: process.platform,
    arch: process.arch,
    llamaCppRelease: llama.llamaCppRelease.release,
  };
}
