// The engine's public surface: llama.cpp behind the Engine interface, plus the model-file helpers
// (./files.ts, which code that must not load llama.cpp imports on its own).
export type * from "./types.js";
export * from "./files.js";
export { loadLlamaEngine, type LlamaEngine, type LlamaEngineOptions } from "./llama-engine.js";
export { detectCapabilities, type EngineCapabilities } from "./capabilities.js";
export { addLlamaLogListener, loadLlama, type GpuChoice } from "./llama-loader.js";
