// Model and adapter files without llama.cpp: validating, reading and writing GGUF, and the tiny test
// and demo models. Commands that only touch files import this, not the engine, so they never load
// node-llama-cpp.
export { InvalidModelError } from "./errors.js";
export { validateModelFile, validateAdapterFile, SUPPORTED_ARCHITECTURES, type ModelSummary, type AdapterSummary } from "./gguf/validate.js";
export {
  writeTinyModel,
  TINY_ARCHITECTURES,
  TINY_SPECIAL_TOKENS,
  TINY_VOCAB_SIZE,
  TINY_WEIGHT_TYPES,
  type TinyArchitecture,
  type TinyModelInfo,
  type TinyModelOptions,
  type TinyWeightType,
} from "./tiny-model.js";
export {
  buildModel,
  planModel,
  BUILD_TOKENIZERS,
  BUILD_WEIGHT_TYPES,
  type BuildModelInfo,
  type BuildModelOptions,
  type BuildTokenizer,
  type BuildWeightType,
} from "./model-build/build-model.js";
export { MODEL_SHAPE_NAMES, MODEL_SHAPES, type ModelShape, type ModelShapeName } from "./model-build/shapes.js";
export { writeLoraAdapter } from "./gguf/lora-writer.js";
export { readGguf, readTensorData } from "./gguf/reader.js";
export { gguf, writeGguf, type GgufTensorToWrite } from "./gguf/writer.js";
