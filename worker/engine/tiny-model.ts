// Writes a small llama-architecture GGUF with seeded random weights: a real model file for tests, demos
// and the learner, loadable by llama.cpp and readable as any GGUF.
//
// Layout (what a reader such as the Python learner can rely on):
// - general.architecture "llama": RMSNorm, RoPE "NORM" (rotates adjacent pairs x[2i], x[2i+1]) with
//   llama.rope.freq_base, grouped-query attention (query head h uses KV head h / (heads / kv_heads)),
//   SwiGLU feed-forward: down(silu(gate x) * up x).
// - Tensors use llama.cpp's standard names, written natively in GGUF layout (no Q/K row permutation as
//   HF conversions do): token_embd.weight, blk.N.attn_norm.weight, blk.N.attn_q/attn_k/attn_v/
//   attn_output.weight, blk.N.ffn_norm.weight, blk.N.ffn_gate/ffn_up/ffn_down.weight, output_norm.weight,
//   and output.weight unless `tiedEmbeddings` (then the output projection is token_embd.weight).
// - ggml dims are [in, out] for a torch [out, in] weight; data is row-major torch order. Matrices are
//   F32 (or F16 with weightType "f16"); norm vectors are always F32, as llama.cpp's converters do.
// - Vocabulary: tokenizer.ggml.model "gpt2" with tokenizer.ggml.pre "qwen2" (a lossless pre-tokenizer),
//   token id b (0..255) = byte b written as its GPT-2 byte character, and an EMPTY merges list, so every
//   byte is one token and any text round-trips. Then three control tokens (type 3: parsed as specials
//   in prompts, end generation): 256 <|endoftext|> (bos/eos/padding), 257 <|im_start|>, 258 <|im_end|>.
//   Prompt tags such as <think> or <search> are plain bytes.
// - tokenizer.chat_template is a ChatML template, so chat formatting takes the same path as for a real
//   Qwen model.
// - Initialisation: seeded normal weights scaled by 1/sqrt(fan_in) (embeddings N(0, 1), norms 1), so
//   logits are O(1): outputs are random but not uniform. Same options + seed => identical bytes.
import path from "node:path";
import fs from "node:fs";
import { byteToUnicode } from "./byte-vocab.js";
import { GgmlType } from "./gguf/ggml-types.js";
import type { GgufMetadata } from "./gguf/types.js";
import { gguf, writeGguf, type GgufTensorToWrite } from "./gguf/writer.js";

export interface TinyModelOptions {
  out: string;
  layers?: number;
  dim?: number;
  heads?: number;
  kvHeads?: number;
  ff?: number;
  context?: number;
  seed?: number;
  /** Omit output.weight: the output projection reuses token_embd.weight. */
  tiedEmbeddings?: boolean;
  weightType?: "f32" | "f16";
  /** Standard deviation of token_embd (default 1). Models meant to be trained want it smaller, e.g. 3/sqrt(dim) when tied. */
  embeddingStd?: number;
}

export const TINY_SPECIAL_TOKENS = { endOfText: 256, imStart: 257, imEnd: 258 } as const;
export const TINY_VOCAB_SIZE = 259;

export const CHATML_TEMPLATE =
  "{%- for message in messages -%}" +
  "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}" +
  "{%- endfor -%}" +
  "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}";

/** Deterministic normal samples: splitmix32 uniforms through Box-Muller. */
function normalGenerator(seed: number): () => number {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return (z + 0.5) / 4294967296;
  };
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const theta = 2 * Math.PI * uniform();
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  };
}

function resolve(options: TinyModelOptions) {
  const o = {
    layers: options.layers ?? 2,
    dim: options.dim ?? 128,
    heads: options.heads ?? 4,
    kvHeads: options.kvHeads ?? 2,
    ff: options.ff ?? 384,
    context: options.context ?? 2048,
    seed: options.seed ?? 1,
    tiedEmbeddings: options.tiedEmbeddings ?? false,
    weightType: options.weightType ?? "f32",
  };
  for (const [key, value] of Object.entries(o)) {
    if (typeof value === "number" && (!Number.isInteger(value) || value < (key === "seed" ? 0 : 1))) {
      throw new RangeError(`${key} must be a ${key === "seed" ? "non-negative" : "positive"} integer (got ${value})`);
    }
  }
  const embeddingStd = options.embeddingStd ?? 1;
  if (!(embeddingStd > 0 && Number.isFinite(embeddingStd))) throw new RangeError(`embeddingStd must be a positive number (got ${embeddingStd})`);
  if (o.dim % o.heads !== 0) throw new RangeError(`dim (${o.dim}) must be divisible by heads (${o.heads})`);
  if (o.heads % o.kvHeads !== 0) throw new RangeError(`kv-heads (${o.kvHeads}) must divide heads (${o.heads})`);
  if ((o.dim / o.heads) % 2 !== 0) throw new RangeError("the head size (dim / heads) must be even for RoPE");
  return { ...o, embeddingStd };
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
  const headDim = o.dim / o.heads;
  const next = normalGenerator(o.seed);
  const matrixType = o.weightType === "f16" ? GgmlType.F16 : GgmlType.F32;
  const tensors: GgufTensorToWrite[] = [];

  const matrix = (name: string, inputs: number, outputs: number, std: number) => {
    const data = new Float32Array(inputs * outputs);
    for (let i = 0; i < data.length; i++) data[i] = next() * std;
    tensors.push({ name, dims: [inputs, outputs], type: matrixType, data });
  };
  const ones = (name: string, n: number) => tensors.push({ name, dims: [n], type: GgmlType.F32, data: new Float32Array(n).fill(1) });

  matrix("token_embd.weight", o.dim, TINY_VOCAB_SIZE, o.embeddingStd);
  for (let i = 0; i < o.layers; i++) {
    const b = `blk.${i}`;
    ones(`${b}.attn_norm.weight`, o.dim);
    matrix(`${b}.attn_q.weight`, o.dim, o.heads * headDim, 1 / Math.sqrt(o.dim));
    matrix(`${b}.attn_k.weight`, o.dim, o.kvHeads * headDim, 1 / Math.sqrt(o.dim));
    matrix(`${b}.attn_v.weight`, o.dim, o.kvHeads * headDim, 1 / Math.sqrt(o.dim));
    matrix(`${b}.attn_output.weight`, o.heads * headDim, o.dim, 1 / Math.sqrt(o.heads * headDim));
    ones(`${b}.ffn_norm.weight`, o.dim);
    matrix(`${b}.ffn_gate.weight`, o.dim, o.ff, 1 / Math.sqrt(o.dim));
    matrix(`${b}.ffn_up.weight`, o.dim, o.ff, 1 / Math.sqrt(o.dim));
    matrix(`${b}.ffn_down.weight`, o.ff, o.dim, 1 / Math.sqrt(o.ff));
  }
  ones("output_norm.weight", o.dim);
  if (!o.tiedEmbeddings) matrix("output.weight", o.dim, TINY_VOCAB_SIZE, 1 / Math.sqrt(o.dim));

  const tokens = [...byteToUnicode(), "<|endoftext|>", "<|im_start|>", "<|im_end|>"];
  const tokenTypes = tokens.map((_, id) => (id >= 256 ? 3 : 1));
  const metadata: GgufMetadata = new Map([
    ["general.architecture", gguf.str("llama")],
    ["general.type", gguf.str("model")],
    ["general.name", gguf.str(`icrl-tiny-${o.layers}x${o.dim}-seed${o.seed}`)],
    ["general.file_type", gguf.u32(o.weightType === "f16" ? 1 : 0)],
    ["llama.context_length", gguf.u32(o.context)],
    ["llama.embedding_length", gguf.u32(o.dim)],
    ["llama.block_count", gguf.u32(o.layers)],
    ["llama.feed_forward_length", gguf.u32(o.ff)],
    ["llama.attention.head_count", gguf.u32(o.heads)],
    ["llama.attention.head_count_kv", gguf.u32(o.kvHeads)],
    ["llama.attention.layer_norm_rms_epsilon", gguf.f32(1e-5)],
    ["llama.rope.freq_base", gguf.f32(10000)],
    ["llama.rope.dimension_count", gguf.u32(headDim)],
    ["llama.vocab_size", gguf.u32(TINY_VOCAB_SIZE)],
    ["tokenizer.ggml.model", gguf.str("gpt2")],
    ["tokenizer.ggml.pre", gguf.str("qwen2")],
    ["tokenizer.ggml.tokens", gguf.arr("string", tokens)],
    ["tokenizer.ggml.token_type", gguf.arr("i32", tokenTypes)],
    ["tokenizer.ggml.merges", gguf.arr("string", [])],
    ["tokenizer.ggml.bos_token_id", gguf.u32(TINY_SPECIAL_TOKENS.endOfText)],
    ["tokenizer.ggml.eos_token_id", gguf.u32(TINY_SPECIAL_TOKENS.endOfText)],
    ["tokenizer.ggml.padding_token_id", gguf.u32(TINY_SPECIAL_TOKENS.endOfText)],
    ["tokenizer.ggml.add_bos_token", gguf.bool(false)],
    ["tokenizer.chat_template", gguf.str(CHATML_TEMPLATE)],
  ]);

  fs.mkdirSync(path.dirname(path.resolve(options.out)), { recursive: true });
  writeGguf(options.out, metadata, tensors);
  const parameters = tensors.reduce((sum, t) => sum + t.data.length, 0);
  return { path: options.out, bytes: fs.statSync(options.out).size, parameters, vocabSize: TINY_VOCAB_SIZE };
}
