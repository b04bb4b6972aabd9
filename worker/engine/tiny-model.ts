// Writes a small GGUF (llama, qwen2 or qwen3) with seeded random weights: a real model file for tests,
// demos, benchmarks and the learner's unit tests, loadable by llama.cpp and readable as any GGUF. This is
// the project's only writer of such models (the Python learner's tests run `icrl model tiny`), so the
// learner and the engine are always checked against the same files.
//
// Layout (what a reader such as the Python learner can rely on):
// - general.architecture "llama" (default), "qwen2" or "qwen3": RMSNorm, RoPE "NORM" (rotates adjacent
//   pairs x[2i], x[2i+1]) for llama with {arch}.rope.freq_base, NEOX (halves) for qwen2/qwen3 as
//   llama.cpp defines those archs, grouped-query attention (query head h uses KV head h / (heads /
//   kv_heads)), SwiGLU feed-forward: down(silu(gate x) * up x). qwen2 adds q/k/v biases
//   (blk.N.attn_q/attn_k/attn_v.bias); qwen3 adds per-head RMSNorms blk.N.attn_q_norm/attn_k_norm.weight.
// - Tensors use llama.cpp's standard names, written natively in GGUF layout (no Q/K row permutation as
//   HF conversions do): token_embd.weight, blk.N.attn_norm.weight, blk.N.attn_q/attn_k/attn_v/
//   attn_output.weight, blk.N.ffn_norm.weight, blk.N.ffn_gate/ffn_up/ffn_down.weight, output_norm.weight,
//   and output.weight unless `tiedEmbeddings` (then the output projection is token_embd.weight).
// - headDim defaults to dim / heads; another value is declared as {arch}.attention.key_length/value_length.
// - ggml dims are [in, out] for a torch [out, in] weight; data is row-major torch order. Matrices are
//   `weightType` (F32, F16, BF16 or Q8_0); norms and biases are always F32, as llama.cpp's converters do.
// - Vocabulary: the byte-level one of model-build/byte-vocabulary.ts (256 bytes, then <|endoftext|>,
//   <|im_start|>, <|im_end|> as control tokens), then normal filler tokens "[tokN]" up to `vocabSize` (a
//   bigger output layer for benchmarks).
// - tokenizer.chat_template is a ChatML template, so chat formatting takes the same path as for a real
//   Qwen model.
// - Initialisation, same options + seed => identical bytes:
//   - default: normal weights scaled by 1/sqrt(fan_in) (embeddings N(0, embeddingStd = 1), norms 1), so
//     logits are O(1): outputs are random but not uniform.
//   - `std` set (the learner's tests use 0.08): every matrix N(0, std), norms 1 + N(0, 0.1), output
//     N(0, 3/sqrt(dim)), embeddings N(0, 1) or the output's scale when tied. Non-trivial norms make a
//     reader that ignores or misplaces a norm disagree with llama.cpp, which is what those tests catch.
//   - qwen2 biases are N(0, 0.1) either way.
import path from "node:path";
import fs from "node:fs";
import { GgmlType, MATRIX_STORAGE } from "./gguf/ggml-types.js";
import type { GgufMetadata } from "./gguf/types.js";
import { gguf, writeGguf, type GgufTensorToWrite } from "./gguf/writer.js";
import { BYTE_SPECIAL_TOKENS, BYTE_VOCAB_SIZE, byteVocabulary, CHATML_TEMPLATE } from "./model-build/byte-vocabulary.js";
import { normalGenerator } from "./seeded-normal.js";

export { CHATML_TEMPLATE };

export const TINY_ARCHITECTURES = ["llama", "qwen2", "qwen3"] as const;
export const TINY_WEIGHT_TYPES = ["f32", "f16", "bf16", "q8_0"] as const;
export type TinyArchitecture = (typeof TINY_ARCHITECTURES)[number];
export type TinyWeightType = (typeof TINY_WEIGHT_TYPES)[number];

export interface TinyModelOptions {
  out: string;
  arch?: TinyArchitecture;
  layers?: number;
  dim?: number;
  heads?: number;
  kvHeads?: number;
  /** Per-head size (default dim / heads). */
  headDim?: number;
  ff?: number;
  context?: number;
  /** At least TINY_VOCAB_SIZE; ids past the control tokens are filler tokens. */
  vocabSize?: number;
  ropeFreqBase?: number;
  seed?: number;
  /** Omit output.weight: the output projection reuses token_embd.weight. */
  tiedEmbeddings?: boolean;
  weightType?: TinyWeightType;
  /** Fixed-scale initialisation (see the file comment) instead of the default 1/sqrt(fan_in). */
  std?: number;
  /** Standard deviation of token_embd. Models meant to be trained want it smaller, e.g. 3/sqrt(dim) when tied. */
  embeddingStd?: number;
}

export const TINY_SPECIAL_TOKENS = BYTE_SPECIAL_TOKENS;
export const TINY_VOCAB_SIZE = BYTE_VOCAB_SIZE;

function positive(name: string, value: number, allowZero = false): number {
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new RangeError(`${name} must be a ${allowZero ? "non-negative" : "positive"} integer (got ${value})`);
  }
  return value;
}

function positiveReal(name: string, value: number): number {
  if (!(value > 0 && Number.isFinite(value))) throw new RangeError(`${name} must be a positive number (got ${value})`);
  return value;
}

function resolve(options: TinyModelOptions) {
  const arch = options.arch ?? "llama";
  if (!TINY_ARCHITECTURES.includes(arch)) throw new RangeError(`arch must be one of ${TINY_ARCHITECTURES.join(", ")} (got ${arch})`);
  const weightType = options.weightType ?? "f32";
  if (!TINY_WEIGHT_TYPES.includes(weightType)) throw new RangeError(`weight type must be one of ${TINY_WEIGHT_TYPES.join(", ")} (got ${weightType})`);
  const o = {
    arch,
    weightType,
    layers: positive("layers", options.layers ?? 2),
    dim: positive("dim", options.dim ?? 128),
    heads: positive("heads", options.heads ?? 4),
    kvHeads: positive("kvHeads", options.kvHeads ?? 2),
    ff: positive("ff", options.ff ?? 384),
    context: positive("context", options.context ?? 2048),
    vocabSize: positive("vocabSize", options.vocabSize ?? TINY_VOCAB_SIZE),
    seed: positive("seed", options.seed ?? 1, true),
    ropeFreqBase: positiveReal("ropeFreqBase", options.ropeFreqBase ?? 10000),
    tiedEmbeddings: options.tiedEmbeddings ?? false,
    std: options.std === undefined ? undefined : positiveReal("std", options.std),
    embeddingStd: options.embeddingStd === undefined ? undefined : positiveReal("embeddingStd", options.embeddingStd),
  };
  if (o.vocabSize < TINY_VOCAB_SIZE) throw new RangeError(`vocabSize must be at least ${TINY_VOCAB_SIZE} (got ${o.vocabSize})`);
  if (options.headDim === undefined && o.dim % o.heads !== 0) throw new RangeError(`dim (${o.dim}) must be divisible by heads (${o.heads})`);
  const headDim = positive("headDim", options.headDim ?? o.dim / o.heads);
  if (o.heads % o.kvHeads !== 0) throw new RangeError(`kv-heads (${o.kvHeads}) must divide heads (${o.heads})`);
  if (headDim % 2 !== 0) throw new RangeError(`the head size (${headDim}) must be even for RoPE`);
  // Q8_0 stores rows in blocks of 32: every matrix's input size must be a multiple.
  if (weightType === "q8_0" && [o.dim, o.ff, o.heads * headDim].some((n) => n % 32 !== 0)) {
    throw new RangeError("q8_0 needs dim, ff and heads * head size to be multiples of 32");
  }
  return { ...o, headDim };
}

export interface TinyModelInfo {
  path: string;
  bytes: number;
  parameters: number;
  vocabSize: number;
}

/** Write the tiny model GGUF (atomically) and return where and how big it is. */
export function writeTinyModel(options: TinyModelOptions): TinyModelInfo {
  const o = resolve(options);
  const next = normalGenerator(o.seed);
  const matrixType = MATRIX_STORAGE[o.weightType].tensorType;
  const tensors: GgufTensorToWrite[] = [];
  const fixedStd = o.std;
  const outputStd = fixedStd === undefined ? 1 / Math.sqrt(o.dim) : 3 / Math.sqrt(o.dim);
  const embeddingStd = o.embeddingStd ?? (fixedStd !== undefined && o.tiedEmbeddings ? outputStd : 1);

  const random = (n: number, std: number, offset = 0) => {
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = offset + next() * std;
    return data;
  };
  const matrix = (name: string, inputs: number, outputs: number, std = fixedStd ?? 1 / Math.sqrt(inputs)) =>
    tensors.push({ name, dims: [inputs, outputs], type: matrixType, data: random(inputs * outputs, std) });
  const vector = (name: string, data: Float32Array) => tensors.push({ name, dims: [data.length], type: GgmlType.F32, data });
  const norm = (name: string, n: number) => vector(name, fixedStd === undefined ? new Float32Array(n).fill(1) : random(n, 0.1, 1));

  const qOut = o.heads * o.headDim;
  const kvOut = o.kvHeads * o.headDim;
  matrix("token_embd.weight", o.dim, o.vocabSize, embeddingStd);
  for (let i = 0; i < o.layers; i++) {
    const b = `blk.${i}`;
    norm(`${b}.attn_norm.weight`, o.dim);
    matrix(`${b}.attn_q.weight`, o.dim, qOut);
    matrix(`${b}.attn_k.weight`, o.dim, kvOut);
    matrix(`${b}.attn_v.weight`, o.dim, kvOut);
    if (o.arch === "qwen2") {
      vector(`${b}.attn_q.bias`, random(qOut, 0.1));
      vector(`${b}.attn_k.bias`, random(kvOut, 0.1));
      vector(`${b}.attn_v.bias`, random(kvOut, 0.1));
    }
    if (o.arch === "qwen3") {
      norm(`${b}.attn_q_norm.weight`, o.headDim);
      norm(`${b}.attn_k_norm.weight`, o.headDim);
    }
    matrix(`${b}.attn_output.weight`, qOut, o.dim);
    norm(`${b}.ffn_norm.weight`, o.dim);
    matrix(`${b}.ffn_gate.weight`, o.dim, o.ff);
    matrix(`${b}.ffn_up.weight`, o.dim, o.ff);
    matrix(`${b}.ffn_down.weight`, o.ff, o.dim);
  }
  norm("output_norm.weight", o.dim);
  if (!o.tiedEmbeddings) matrix("output.weight", o.dim, o.vocabSize, outputStd);

  const vocab = byteVocabulary();
  const tokens = vocab.tokens;
  const tokenTypes = vocab.tokenTypes;
  for (let id = tokens.length; id < o.vocabSize; id++) {
    tokens.push(`[tok${id}]`);
    tokenTypes.push(1);
  }
  const a = o.arch;
  const name = `icrl-tiny-${a === "llama" ? "" : `${a}-`}${o.layers}x${o.dim}-seed${o.seed}`;
  const metadata: GgufMetadata = new Map([
    ["general.architecture", gguf.str(a)],
    ["general.type", gguf.str("model")],
    ["general.name", gguf.str(name)],
    ["general.file_type", gguf.u32(MATRIX_STORAGE[o.weightType].fileType)],
    [`${a}.context_length`, gguf.u32(o.context)],
    [`${a}.embedding_length`, gguf.u32(o.dim)],
    [`${a}.block_count`, gguf.u32(o.layers)],
    [`${a}.feed_forward_length`, gguf.u32(o.ff)],
    [`${a}.attention.head_count`, gguf.u32(o.heads)],
    [`${a}.attention.head_count_kv`, gguf.u32(o.kvHeads)],
    [`${a}.attention.layer_norm_rms_epsilon`, gguf.f32(1e-5)],
    [`${a}.rope.freq_base`, gguf.f32(o.ropeFreqBase)],
    [`${a}.rope.dimension_count`, gguf.u32(o.headDim)],
    [`${a}.vocab_size`, gguf.u32(o.vocabSize)],
  ]);
  if (o.headDim * o.heads !== o.dim) {
    metadata.set(`${a}.attention.key_length`, gguf.u32(o.headDim));
    metadata.set(`${a}.attention.value_length`, gguf.u32(o.headDim));
  }
  const tokenizer: GgufMetadata = new Map([
    ["tokenizer.ggml.model", gguf.str("gpt2")],
    ["tokenizer.ggml.pre", gguf.str(vocab.pre)],
    ["tokenizer.ggml.tokens", gguf.arr("string", tokens)],
    ["tokenizer.ggml.token_type", gguf.arr("i32", tokenTypes)],
    ["tokenizer.ggml.merges", gguf.arr("string", vocab.merges)],
    ["tokenizer.ggml.bos_token_id", gguf.u32(vocab.bosId)],
    ["tokenizer.ggml.eos_token_id", gguf.u32(vocab.eosId)],
    ["tokenizer.ggml.padding_token_id", gguf.u32(vocab.paddingId!)],
    ["tokenizer.ggml.add_bos_token", gguf.bool(vocab.addBos)],
    ["tokenizer.chat_template", gguf.str(vocab.chatTemplate)],
  ]);
  for (const [key, value] of tokenizer) metadata.set(key, value);

  fs.mkdirSync(path.dirname(path.resolve(options.out)), { recursive: true });
  writeGguf(options.out, metadata, tensors);
  const parameters = tensors.reduce((sum, t) => sum + t.data.length, 0);
  return { path: options.out, bytes: fs.statSync(options.out).size, parameters, vocabSize: o.vocabSize };
}
