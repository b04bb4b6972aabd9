// GPU backends node-llama-cpp finds drivers for, and the backend that actually loads. On a CPU-only
// machine no GPU is a warning: everything runs, only slower.
import { type CheckResult, ok, warn } from "./check.js";

export async function checkGpu(): Promise<CheckResult> {
  try {
    const { detectCapabilities } = await import("../../worker/engine/index.js");
    const caps = await detectCapabilities("auto");
    const detected = caps.detectedGpuBackends.length > 0 ? caps.detectedGpuBackends.join(", ") : "none";
    if (caps.backend !== "cpu") return ok("gpu", `llama.cpp uses ${caps.backend} (${caps.gpuNames.join(", ") || "GPU"}); detected: ${detected}`);
    return warn(
      "gpu",
      `no GPU backend usable (detected: ${detected}): llama.cpp runs on the CPU`,
      "for a GPU, install its driver (CUDA or Vulkan) and run icrl doctor again",
    );
  } catch (error) {
    return warn("gpu", `llama.cpp did not load: ${(error as Error).message.split("\n")[0]}`, "reinstall node-llama-cpp: npm install");
  }
}
