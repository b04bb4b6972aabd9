// `icrl model build`: a GGUF of a published model shape with a real tokenizer and seeded random weights,
// for measuring memory, speed and loading at real sizes, and for tests that need a real vocabulary.
// Layout follows llama.cpp's converter (tensor names, F32 norms and biases, metadata keys, vocabulary
// padding); initialisation: matrices N(0, 1/sqrt(fan-in)), embeddings and output N(0, 1/sqrt(hidden))
// so logits are O(1), norms 1, qwen2's q/k/v biases N(0, 0.02).
import fs from "node:fs";
import path from "node:path";
import { GgmlType, MATRIX_STORAGE } from "../gguf/ggml-types.js";
import type { GgufMetadata } from "../gguf/types.js";
import { encodeGgufHeader, gguf, type EncodedGgufHeader } from "../gguf/writer.js";
import { byteVocabulary } from "./byte-vocabulary.js";
import { llama3Vocabulary } from "./llama3-tokenizer.js";
import { qwenVocabulary } from "./qwen-tokenizer.js";
import { type WeightInit, type WeightStream, weightStream } from "./seeded-weights.js";
import { MODEL_SHAPES, MODEL_SHAPE_NAMES, TINY_SHAPE, type Llama3RopeScaling, type ModelShape, type ModelShapeName } from "./shapes.js";
import { writeStreamedGguf, type StreamedTensor } from "./streaming-writer.js";
import { padVocabulary, type Vocabulary } from "./vocabulary.js";

export const BUILD_TOKENIZERS = ["qwen3", "qwen2.5", "llama3", "byte"] as const;
export const BUILD_WEIGHT_TYPES = ["f16", "bf16", "q8_0", "f32"] as const;
export type BuildTokenizer = (typeof BUILD_TOKENIZERS)[number];
export type BuildWeightType = (typeof BUILD_WEIGHT_TYPES)[number];

export interface BuildModelOptions {
  shape: ModelShapeName;
  /** Default: the shape's own (tiny: byte). */
  tokenizer?: BuildTokenizer;
  type?: BuildWeightType;
  seed?: number;
}

export interface BuildModelInfo {
  path: string;
  bytes: number;
  parameters: number;
  vocabSize: number;
  shape: ModelShapeName;
  tokenizer: BuildTokenizer;
  type: BuildWeightType;
  seconds: number;
  mbPerSecond: number;
}

export interface ModelPlan {
  metadata: GgufMetadata;
  header: EncodedGgufHeader;
  tensors: StreamedTensor[];
  parameters: number;
  /** Size of the file in bytes. */
  bytes: number;
  vocabSize: number;
  shape: ModelShape;
  tokenizer: BuildTokenizer;
  type: BuildWeightType;
}

const DEFAULT_TOKENIZER: Record<ModelShapeName, BuildTokenizer> = {
  tiny: "byte",
  "qwen2.5-0.5b": "qwen2.5",
  "qwen2.5-3b": "qwen2.5",
  "qwen2.5-7b": "qwen2.5",
  "qwen3-8b": "qwen3",
  "llama-3.2-1b": "llama3",
};

const vocabularies = new Map<BuildTokenizer, Vocabulary>();

/** Parsed once per process: reading a BPE vocabulary (~10 MB of JSON) costs about a second. */
function loadVocabulary(tokenizer: BuildTokenizer): Vocabulary {
  let vocab = vocabularies.get(tokenizer);
  if (!vocab) {
    vocab = readVocabulary(tokenizer);
    vocabularies.set(tokenizer, vocab);
  }
  return vocab;
}

function readVocabulary(tokenizer: BuildTokenizer): Vocabulary {
  switch (tokenizer) {
    case "qwen3":
    case "qwen2.5":
      return qwenVocabulary(tokenizer);
    case "llama3":
      return llama3Vocabulary();
    case "byte":
      return byteVocabulary();
  }
}

/** convert_hf_to_gguf.py's rope_freqs for Llama 3 RoPE scaling: one factor per rotated pair. */
function llama3RopeFactors(base: number, headDim: number, s: Llama3RopeScaling): Float32Array {
  const lowFreqWavelen = s.originalContext / s.lowFreqFactor;
  const highFreqWavelen = s.originalContext / s.highFreqFactor;
  const factors = new Float32Array(headDim / 2);
  for (let i = 0; i < headDim / 2; i++) {
    const wavelen = (2 * Math.PI) / (1 / base ** ((2 * i) / headDim));
    if (wavelen < highFreqWavelen) factors[i] = 1;
    else if (wavelen > lowFreqWavelen) factors[i] = s.factor;
    else {
      const smooth = (s.originalContext / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      factors[i] = 1 / ((1 - smooth) / s.factor + smooth);
    }
  }
  return factors;
}

function oneOf<T extends string>(name: string, value: T, choices: readonly T[]): T {
  if (!choices.includes(value)) throw new RangeError(`${name} must be one of ${choices.join(", ")} (got ${value})`);
  return value;
}

/** Everything about the file except the weights: metadata, tensors, sizes. Cheap even for 8B shapes. */
export function planModel(options: BuildModelOptions): ModelPlan {
  const shapeName = oneOf("shape", options.shape, MODEL_SHAPE_NAMES);
  const tokenizer = oneOf("tokenizer", options.tokenizer ?? DEFAULT_TOKENIZER[shapeName], BUILD_TOKENIZERS);
  const type = oneOf("type", options.type ?? "f16", BUILD_WEIGHT_TYPES);
  const seed = options.seed ?? 1;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative integer (got ${seed})`);
  const loaded = loadVocabulary(tokenizer);
  const shape: ModelShape = shapeName === "tiny" ? { ...TINY_SHAPE, architecture: loaded.architecture } : MODEL_SHAPES[shapeName];
  if (shape.vocabRows !== null && loaded.tokens.length > shape.vocabRows) {
    throw new RangeError(
      `--shape ${shapeName} has ${shape.vocabRows} embedding rows but the ${tokenizer} tokenizer has ${loaded.tokens.length} tokens: ` +
        `use --tokenizer ${DEFAULT_TOKENIZER[shapeName]} (the shape's own, also the default)`,
    );
  }
  const vocab = padVocabulary(loaded, shape.vocabRows ?? loaded.tokens.length);
  const rows = vocab.tokens.length;
  const { hidden, headDim, ff } = shape;
  const qOut = shape.heads * headDim;
  const kvOut = shape.kvHeads * headDim;
  if (type === "q8_0" && [hidden, ff, qOut].some((n) => n % 32 !== 0))
    throw new RangeError("q8_0 needs hidden, ff and heads * head size to be multiples of 32");

  const matrixType = MATRIX_STORAGE[type].tensorType;
  const tensors: StreamedTensor[] = [];
  /** A tensor of seeded random (or constant) values, or of the given F32 values. */
  const add = (name: string, dims: number[], tensorType: number, source: WeightInit | Float32Array) => {
    const index = tensors.length;
    const open = (): WeightStream => {
      if (!(source instanceof Float32Array)) return weightStream(tensorType, source, seed, index);
      let at = 0;
      return {
        fill(out, n) {
          new Float32Array(out.buffer, out.byteOffset, n).set(source.subarray(at, at + n));
          at += n;
        },
      };
    };
    tensors.push({ name, dims, type: tensorType, open });
  };
  const matrix = (name: string, inputs: number, outputs: number, std = 1 / Math.sqrt(inputs)) => add(name, [inputs, outputs], matrixType, { std });
  const norm = (name: string, n: number) => add(name, [n], GgmlType.F32, { constant: 1 });

  if (shape.ropeScaling) {
    const factors = llama3RopeFactors(shape.ropeBase, headDim, shape.ropeScaling);
    add("rope_freqs.weight", [factors.length], GgmlType.F32, factors);
  }
  matrix("token_embd.weight", hidden, rows, 1 / Math.sqrt(hidden));
  for (let i = 0; i < shape.layers; i++) {
    const b = `blk.${i}`;
    norm(`${b}.attn_norm.weight`, hidden);
    matrix(`${b}.attn_q.weight`, hidden, qOut);
    matrix(`${b}.attn_k.weight`, hidden, kvOut);
    matrix(`${b}.attn_v.weight`, hidden, kvOut);
    if (shape.architecture === "qwen2") {
      add(`${b}.attn_q.bias`, [qOut], GgmlType.F32, { std: 0.02 });
      add(`${b}.attn_k.bias`, [kvOut], GgmlType.F32, { std: 0.02 });
      add(`${b}.attn_v.bias`, [kvOut], GgmlType.F32, { std: 0.02 });
    }
    if (shape.architecture === "qwen3") {
      norm(`${b}.attn_q_norm.weight`, headDim);
      norm(`${b}.attn_k_norm.weight`, headDim);
    }
    matrix(`${b}.attn_output.weight`, qOut, hidden);
    norm(`${b}.ffn_norm.weight`, hidden);
    matrix(`${b}.ffn_gate.weight`, hidden, ff);
    matrix(`${b}.ffn_up.weight`, hidden, ff);
    matrix(`${b}.ffn_down.weight`, ff, hidden);
  }
  norm("output_norm.weight", hidden);
  if (!shape.tiedEmbeddings) matrix("output.weight", hidden, rows, 1 / Math.sqrt(hidden));

  const a = shape.architecture;
  const metadata: GgufMetadata = new Map([
    ["general.architecture", gguf.str(a)],
    ["general.type", gguf.str("model")],
    ["general.name", gguf.str(`icrl-build-${shapeName}-${tokenizer}-seed${seed}`)],
    ["general.file_type", gguf.u32(MATRIX_STORAGE[type].fileType)],
    [`${a}.context_length`, gguf.u32(shape.context)],
    [`${a}.embedding_length`, gguf.u32(hidden)],
    [`${a}.block_count`, gguf.u32(shape.layers)],
    [`${a}.feed_forward_length`, gguf.u32(ff)],
    [`${a}.attention.head_count`, gguf.u32(shape.heads)],
    [`${a}.attention.head_count_kv`, gguf.u32(shape.kvHeads)],
    [`${a}.attention.layer_norm_rms_epsilon`, gguf.f32(shape.rmsEps)],
    [`${a}.rope.freq_base`, gguf.f32(shape.ropeBase)],
    [`${a}.rope.dimension_count`, gguf.u32(headDim)],
    [`${a}.vocab_size`, gguf.u32(rows)],
    ["tokenizer.ggml.model", gguf.str("gpt2")],
    ["tokenizer.ggml.pre", gguf.str(vocab.pre)],
    ["tokenizer.ggml.tokens", gguf.arr("string", vocab.tokens)],
    ["tokenizer.ggml.token_type", gguf.arr("i32", vocab.tokenTypes)],
    ["tokenizer.ggml.merges", gguf.arr("string", vocab.merges)],
    ["tokenizer.ggml.bos_token_id", gguf.u32(vocab.bosId)],
    ["tokenizer.ggml.eos_token_id", gguf.u32(vocab.eosId)],
  ]);
  if (shape.declaresHeadDim || qOut !== hidden) {
    metadata.set(`${a}.attention.key_length`, gguf.u32(headDim));
    metadata.set(`${a}.attention.value_length`, gguf.u32(headDim));
  }
  if (vocab.paddingId !== undefined) metadata.set("tokenizer.ggml.padding_token_id", gguf.u32(vocab.paddingId));
  metadata.set("tokenizer.ggml.add_bos_token", gguf.bool(vocab.addBos));
  metadata.set("tokenizer.chat_template", gguf.str(vocab.chatTemplate));

  const parameters = tensors.reduce((sum, t) => sum + t.dims.reduce((x, y) => x * y, 1), 0);
  const header = encodeGgufHeader(metadata, tensors);
  return { metadata, header, tensors, parameters, bytes: header.header.length + header.dataBytes, vocabSize: rows, shape, tokenizer, type };
}

/** Write the model (atomically) to `out` and say what was written and how fast. */
export function buildModel(options: BuildModelOptions & { out: string }): BuildModelInfo {
  const started = performance.now();
  const plan = planModel(options);
  fs.mkdirSync(path.dirname(path.resolve(options.out)), { recursive: true });
  const bytes = writeStreamedGguf(options.out, plan.header, plan.tensors);
  const seconds = (performance.now() - started) / 1000;
  return {
    path: options.out,
    bytes,
    parameters: plan.parameters,
    vocabSize: plan.vocabSize,
    shape: options.shape,
    tokenizer: plan.tokenizer,
    type: plan.type,
    seconds: Math.round(seconds * 1000) / 1000,
    mbPerSecond: Math.round(bytes / 1e6 / seconds),
  };
}
