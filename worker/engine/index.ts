// The engine's public surface: what the ICRL loop, evaluation, the worker and the CLI import.
export type * from "./types.js";
export { InvalidModelError } from "./errors.js";
export { loadLlamaEngine, type LlamaEngine, type LlamaEngineOptions } from "./llama-engine.js";
export { detectCapabilities, type EngineCapabilities } from "./capabilities.js";
export { addLlamaLogListener } from "./llama-loader.js";
export { writeTinyModel, TINY_SPECIAL_TOKENS, TINY_VOCAB_SIZE, type TinyModelOptions } from "./tiny-model.js";
export { validateModelFile, validateAdapterFile, SUPPORTED_ARCHITECTURES, type ModelSummary, type AdapterSummary } from "./gguf/validate.js";
export { writeLoraAdapter } from "./gguf/lora-writer.js";
