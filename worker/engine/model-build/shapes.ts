// The model shapes `icrl model build` can write: the published hyper-parameters of the models users bring,
// so a random-weight file has exactly the tensors, sizes and metadata of the real one (memory, speed and
// loading behave the same), plus `tiny` for tests.
//
// Sources: each model's Hugging Face config.json (Qwen/Qwen2.5-0.5B-Instruct, Qwen/Qwen2.5-3B-Instruct,
// Qwen/Qwen2.5-7B-Instruct, Qwen/Qwen3-8B, meta-llama/Llama-3.2-1B-Instruct): hidden_size,
// num_hidden_layers, num_attention_heads, num_key_value_heads, head_dim (hidden / heads when absent),
// intermediate_size, tie_word_embeddings, rope_theta, rms_norm_eps, max_position_embeddings, vocab_size
// (the embedding rows, which include padding past the tokenizer's tokens), and Llama 3.2's rope_scaling.
// Parameter counts they give: 494M, 3.09B, 7.62B, 8.19B, 1.24B (checked in test/engine/model-build.test.ts).

export type BuildArchitecture = "llama" | "qwen2" | "qwen3";

/** Llama 3's "llama3" RoPE scaling; llama.cpp's converter stores it as the rope_freqs.weight tensor. */
export interface Llama3RopeScaling {
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalContext: number;
}

export interface ModelShape {
  architecture: BuildArchitecture;
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ff: number;
  /** No output.weight: the output projection is token_embd.weight. */
  tiedEmbeddings: boolean;
  ropeBase: number;
  rmsEps: number;
  context: number;
  /** config.json states head_dim, so the converter writes {arch}.attention.key_length/value_length. */
  declaresHeadDim?: boolean;
  /** Embedding rows; null: as many as the tokenizer has tokens (the tiny shape). */
  vocabRows: number | null;
  ropeScaling?: Llama3RopeScaling;
}

export const MODEL_SHAPE_NAMES = ["tiny", "qwen2.5-0.5b", "qwen2.5-3b", "qwen2.5-7b", "qwen3-8b", "llama-3.2-1b"] as const;
export type ModelShapeName = (typeof MODEL_SHAPE_NAMES)[number];

const QWEN25 = { architecture: "qwen2", ropeBase: 1_000_000, rmsEps: 1e-6, context: 32_768 } as const;

/** The tiny shape's architecture follows the tokenizer (see build-model.ts); these are its sizes. */
export const TINY_SHAPE: Omit<ModelShape, "architecture"> = {
  layers: 2,
  hidden: 128,
  heads: 4,
  kvHeads: 2,
  headDim: 32,
  ff: 384,
  tiedEmbeddings: true,
  ropeBase: 10_000,
  rmsEps: 1e-5,
  context: 4096,
  vocabRows: null,
};

export const MODEL_SHAPES: Record<Exclude<ModelShapeName, "tiny">, ModelShape> = {
  "qwen2.5-0.5b": { ...QWEN25, layers: 24, hidden: 896, heads: 14, kvHeads: 2, headDim: 64, ff: 4864, tiedEmbeddings: true, vocabRows: 151_936 },
  "qwen2.5-3b": { ...QWEN25, layers: 36, hidden: 2048, heads: 16, kvHeads: 2, headDim: 128, ff: 11_008, tiedEmbeddings: true, vocabRows: 151_936 },
  "qwen2.5-7b": { ...QWEN25, layers: 28, hidden: 3584, heads: 28, kvHeads: 4, headDim: 128, ff: 18_944, tiedEmbeddings: false, vocabRows: 152_064 },
  "qwen3-8b": {
    architecture: "qwen3",
    layers: 36,
    hidden: 4096,
    heads: 32,
    kvHeads: 8,
    headDim: 128,
    ff: 12_288,
    tiedEmbeddings: false,
    ropeBase: 1_000_000,
    rmsEps: 1e-6,
    context: 40_960,
    declaresHeadDim: true,
    vocabRows: 151_936,
  },
  "llama-3.2-1b": {
    architecture: "llama",
    layers: 16,
    hidden: 2048,
    heads: 32,
    kvHeads: 8,
    headDim: 64,
    ff: 8192,
    tiedEmbeddings: true,
    ropeBase: 500_000,
    rmsEps: 1e-5,
    context: 131_072,
    declaresHeadDim: true,
    vocabRows: 128_256,
    ropeScaling: { factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalContext: 8192 },
  },
};
