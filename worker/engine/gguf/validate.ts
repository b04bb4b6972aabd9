// Checks a model or LoRA adapter GGUF before it reaches llama.cpp. Some malformed files (a missing
// feed_forward_length or head_count) hit a native GGML_ASSERT that kills the whole process, so every
// file is checked here first and rejected with an InvalidModelError that lists all problems found.
// Checks follow what llama.cpp's loaders for llama, qwen2 and qwen3 read (src/models/*.cpp).
import fs from "node:fs";
import { InvalidModelError } from "../errors.js";
import { ggmlTypeName } from "./ggml-types.js";
import { GgufFormatError, metaArray, metaNumber, metaString, readGguf } from "./reader.js";
import type { GgufFile, GgufTensorInfo } from "./types.js";

export const SUPPORTED_ARCHITECTURES = ["llama", "qwen2", "qwen3"] as const;

export interface ModelSummary {
  file: GgufFile;
  architecture: string;
  contextLength: number;
  embeddingLength: number;
  blockCount: number;
  feedForwardLength: number;
  headCount: number;
  headCountKv: number;
  /** Per-head size of queries/keys (attention.key_length, else embedding_length / head_count). */
  headDimK: number;
  headDimV: number;
  vocabSize: number;
  tokenizerModel: string;
  bosTokenId: number | null;
  eosTokenId: number | null;
  chatTemplate: string | null;
  /** Tensor infos by name, for checking adapters against this base. */
  tensors: Map<string, GgufTensorInfo>;
}

export interface AdapterSummary {
  file: GgufFile;
  alpha: number;
  /** Rank of each adapted base tensor. */
  ranks: Map<string, number>;
}

function readOrReject(path: string, kind: "model" | "adapter"): GgufFile {
  if (!fs.existsSync(path)) throw new InvalidModelError(path, ["file does not exist"], kind);
  if (!fs.statSync(path).isFile()) throw new InvalidModelError(path, ["not a regular file"], kind);
  try {
    return readGguf(path);
  } catch (error) {
    if (error instanceof GgufFormatError) throw new InvalidModelError(path, [error.message], kind);
    throw error;
  }
}

/** Problems shared by models and adapters: tensor data must lie inside the file, aligned, not overlapping. */
function checkTensorData(file: GgufFile, problems: string[]): void {
  const sorted = [...file.tensors].sort((a, b) => a.offset - b.offset);
  let previousEnd = 0;
  let previousName = "";
  for (const t of sorted) {
    if (t.offset % file.alignment !== 0) problems.push(`tensor ${t.name} data offset ${t.offset} is not aligned to ${file.alignment}`);
    if (t.offset < previousEnd) problems.push(`tensor ${t.name} overlaps tensor ${previousName}`);
    const end = file.dataOffset + t.offset + t.byteSize;
    if (end > file.fileSize) {
      problems.push(`file is truncated: tensor ${t.name} needs bytes up to ${end} but the file has ${file.fileSize}`);
      break;
    }
    previousEnd = t.offset + t.byteSize;
    previousName = t.name;
  }
}

function positiveInteger(file: GgufFile, key: string, problems: string[], required = true): number | undefined {
  const value = file.metadata.get(key);
  if (!value) {
    if (required) problems.push(`missing ${key}`);
    return undefined;
  }
  const n = metaNumber(file.metadata, key);
  if (n === undefined || !Number.isInteger(n) || n <= 0) {
    problems.push(`${key} must be a positive integer (got ${value.type === "array" ? "an array" : String(value.value)})`);
    return undefined;
  }
  return n;
}

function shapeProblem(t: GgufTensorInfo, expected: number[]): string | null {
  const same = t.dims.length === expected.length && t.dims.every((d, i) => d === expected[i]);
  return same ? null : `tensor ${t.name} has shape [${t.dims.join(", ")}], expected [${expected.join(", ")}]`;
}

/** Validate a model GGUF; returns its summary or throws InvalidModelError naming the file and every problem. */
export function validateModelFile(path: string): ModelSummary {
  const file = readOrReject(path, "model");
  const problems: string[] = [];
  const md = file.metadata;

  const generalType = metaString(md, "general.type");
  if (generalType === "adapter") throw new InvalidModelError(path, ["this is a LoRA adapter, not a model"]);
  const splitCount = metaNumber(md, "split.count");
  if (splitCount !== undefined && splitCount > 1) {
    throw new InvalidModelError(path, [`split GGUF (${splitCount} parts) is not supported: merge the parts first (llama-gguf-split --merge)`]);
  }

  const architecture = metaString(md, "general.architecture");
  if (!architecture) {
    problems.push("missing general.architecture");
  } else if (!(SUPPORTED_ARCHITECTURES as readonly string[]).includes(architecture)) {
    problems.push(`architecture ${architecture} is not supported (supported: ${SUPPORTED_ARCHITECTURES.join(", ")})`);
  }
  if (problems.length > 0) throw new InvalidModelError(path, problems);
  const arch = architecture!;

  const contextLength = positiveInteger(file, `${arch}.context_length`, problems);
  const embeddingLength = positiveInteger(file, `${arch}.embedding_length`, problems);
  const blockCount = positiveInteger(file, `${arch}.block_count`, problems);
  const feedForwardLength = positiveInteger(file, `${arch}.feed_forward_length`, problems);
  const headCount = positiveInteger(file, `${arch}.attention.head_count`, problems);
  const headCountKv = positiveInteger(file, `${arch}.attention.head_count_kv`, problems, false) ?? headCount;
  const keyLength = positiveInteger(file, `${arch}.attention.key_length`, problems, false);
  const valueLength = positiveInteger(file, `${arch}.attention.value_length`, problems, false);
  const expertCount = metaNumber(md, `${arch}.expert_count`) ?? 0;

  const epsKey = `${arch}.attention.layer_norm_rms_epsilon`;
  const eps = metaNumber(md, epsKey);
  if (!md.has(epsKey)) problems.push(`missing ${epsKey}`);
  else if (eps === undefined || !(eps > 0) || !Number.isFinite(eps)) problems.push(`${epsKey} must be a positive number`);

  if (headCount !== undefined && headCountKv !== undefined && headCount % headCountKv !== 0) {
    problems.push(`${arch}.attention.head_count_kv (${headCountKv}) does not divide head_count (${headCount})`);
  }
  let headDimK: number | undefined;
  let headDimV: number | undefined;
  if (embeddingLength !== undefined && headCount !== undefined) {
    if (keyLength === undefined && embeddingLength % headCount !== 0) {
      problems.push(`embedding_length (${embeddingLength}) is not divisible by head_count (${headCount}) and no attention.key_length is set`);
    } else {
      headDimK = keyLength ?? embeddingLength / headCount;
      headDimV = valueLength ?? headDimK;
    }
  }

  // Tokenizer.
  const tokenizerModel = metaString(md, "tokenizer.ggml.model");
  if (!tokenizerModel) problems.push("missing tokenizer.ggml.model");
  const tokens = metaArray(md, "tokenizer.ggml.tokens");
  let vocabSize = 0;
  if (!tokens) problems.push("missing tokenizer.ggml.tokens");
  else if (tokens.itemType !== "string") problems.push("tokenizer.ggml.tokens must be an array of strings");
  else if (tokens.value.length === 0) problems.push("tokenizer.ggml.tokens is empty");
  else vocabSize = tokens.value.length;
  if (tokenizerModel === "gpt2") {
    const merges = metaArray(md, "tokenizer.ggml.merges");
    if (!merges) problems.push("missing tokenizer.ggml.merges (required for gpt2 tokenizers; may be empty)");
    else if (merges.itemType !== "string" && merges.value.length > 0) problems.push("tokenizer.ggml.merges must be an array of strings");
  }
  for (const key of ["tokenizer.ggml.token_type", "tokenizer.ggml.scores"]) {
    const arr = metaArray(md, key);
    if (md.has(key) && !arr) problems.push(`${key} must be an array`);
    if (arr && vocabSize > 0 && arr.value.length !== vocabSize) {
      problems.push(`${key} has ${arr.value.length} entries for ${vocabSize} tokens`);
    }
  }
  const tokenId = (key: string): number | null => {
    if (!md.has(key)) return null;
    const id = metaNumber(md, key);
    if (id === undefined || !Number.isInteger(id) || id < 0 || (vocabSize > 0 && id >= vocabSize)) {
      problems.push(`${key} is not a valid token id`);
      return null;
    }
    return id;
  };
  const bosTokenId = tokenId("tokenizer.ggml.bos_token_id");
  const eosTokenId = tokenId("tokenizer.ggml.eos_token_id");
  const chatTemplate = metaString(md, "tokenizer.chat_template") ?? null;

  // Tensors: presence and shapes against the hyper-parameters.
  const tensors = new Map(file.tensors.map((t) => [t.name, t]));
  const need = (name: string, shape: number[] | null, required = true) => {
    const t = tensors.get(name);
    if (!t) {
      if (required) problems.push(`missing tensor ${name}`);
      return;
    }
    if (shape) {
      const p = shapeProblem(t, shape);
      if (p) problems.push(p);
    }
  };
  if (
    embeddingLength !== undefined &&
    blockCount !== undefined &&
    feedForwardLength !== undefined &&
    headCount !== undefined &&
    headCountKv !== undefined &&
    headDimK !== undefined &&
    headDimV !== undefined &&
    problems.length === 0
  ) {
    const nEmbd = embeddingLength;
    const nQ = headCount * headDimK;
    const nK = headCountKv * headDimK;
    const nV = headCountKv * headDimV;
    const embd = tensors.get("token_embd.weight");
    if (!embd) problems.push("missing tensor token_embd.weight");
    else if (embd.dims.length !== 2 || embd.dims[0] !== nEmbd) problems.push(shapeProblem(embd, [nEmbd, vocabSize])!);
    else if (vocabSize > 0 && embd.dims[1] !== vocabSize) {
      problems.push(`token_embd.weight has ${embd.dims[1]} rows but the tokenizer has ${vocabSize} tokens`);
    }
    const nVocab = embd?.dims[1] ?? vocabSize;
    need("output_norm.weight", [nEmbd]);
    need("output.weight", [nEmbd, nVocab], false);
    for (let i = 0; i < blockCount && problems.length < 20; i++) {
      const b = `blk.${i}`;
      need(`${b}.attn_norm.weight`, [nEmbd]);
      if (tensors.has(`${b}.attn_qkv.weight`)) {
        need(`${b}.attn_qkv.weight`, [nEmbd, nQ + nK + nV]);
      } else {
        need(`${b}.attn_q.weight`, [nEmbd, nQ]);
        need(`${b}.attn_k.weight`, [nEmbd, nK]);
        need(`${b}.attn_v.weight`, [nEmbd, nV]);
        need(`${b}.attn_q.bias`, [nQ], false);
        need(`${b}.attn_k.bias`, [nK], false);
        need(`${b}.attn_v.bias`, [nV], false);
      }
      need(`${b}.attn_output.weight`, [headCount * headDimV, nEmbd]);
      if (arch === "qwen3") {
        need(`${b}.attn_q_norm.weight`, [headDimK]);
        need(`${b}.attn_k_norm.weight`, [headDimK]);
      }
      need(`${b}.ffn_norm.weight`, [nEmbd]);
      if (expertCount > 0) {
        need(`${b}.ffn_gate_inp.weight`, [nEmbd, expertCount]);
        need(`${b}.ffn_up_exps.weight`, [nEmbd, feedForwardLength, expertCount]);
        need(`${b}.ffn_down_exps.weight`, [feedForwardLength, nEmbd, expertCount]);
      } else {
        need(`${b}.ffn_gate.weight`, [nEmbd, feedForwardLength]);
        need(`${b}.ffn_up.weight`, [nEmbd, feedForwardLength]);
        need(`${b}.ffn_down.weight`, [feedForwardLength, nEmbd]);
      }
    }
  }
  checkTensorData(file, problems);
  if (problems.length > 0) throw new InvalidModelError(path, problems);

  return {
    file,
    architecture: arch,
    contextLength: contextLength!,
    embeddingLength: embeddingLength!,
    blockCount: blockCount!,
    feedForwardLength: feedForwardLength!,
    headCount: headCount!,
    headCountKv: headCountKv!,
    headDimK: headDimK!,
    headDimV: headDimV!,
    vocabSize,
    tokenizerModel: tokenizerModel!,
    bosTokenId,
    eosTokenId,
    chatTemplate,
    tensors,
  };
}

/**
 * Validate a LoRA adapter GGUF against its base model, mirroring llama.cpp's adapter loader:
 * general.type "adapter", adapter.type "lora", same architecture, tensors named `<base>.lora_a/.lora_b`
 * in pairs, ggml shapes lora_a [in, r] and lora_b [r, out] for a base weight [in, out] (PEFT's torch
 * shapes [r, in] and [out, r]). adapter.lora.alpha is required here: llama.cpp silently treats a
 * missing alpha as "no alpha/r scaling", which would apply the adapter at the wrong strength.
 */
export function validateAdapterFile(path: string, base: ModelSummary): AdapterSummary {
  const file = readOrReject(path, "adapter");
  const md = file.metadata;
  const problems: string[] = [];
  const reject = () => new InvalidModelError(path, problems, "adapter");

  const generalType = metaString(md, "general.type");
  if (generalType !== "adapter")
    problems.push(`general.type must be "adapter" (got ${generalType === undefined ? "nothing" : JSON.stringify(generalType)})`);
  const adapterType = metaString(md, "adapter.type");
  if (adapterType !== "lora")
    problems.push(`adapter.type must be "lora" (got ${adapterType === undefined ? "nothing" : JSON.stringify(adapterType)})`);
  const arch = metaString(md, "general.architecture");
  if (arch !== base.architecture) problems.push(`general.architecture ${arch ?? "(missing)"} does not match the base model's ${base.architecture}`);
  const alphaValue = md.get("adapter.lora.alpha");
  const alpha = metaNumber(md, "adapter.lora.alpha");
  if (!alphaValue) problems.push("missing adapter.lora.alpha");
  else if (alphaValue.type !== "f32" || alpha === undefined || !Number.isFinite(alpha)) problems.push("adapter.lora.alpha must be an f32");

  const pairs = new Map<string, { a?: GgufTensorInfo; b?: GgufTensorInfo }>();
  for (const t of file.tensors) {
    const suffix = t.name.endsWith(".lora_a") ? "a" : t.name.endsWith(".lora_b") ? "b" : null;
    if (!suffix) {
      if (!t.name.endsWith("_norm.weight")) problems.push(`tensor ${t.name} has an unexpected suffix (expected .lora_a or .lora_b)`);
      continue;
    }
    const baseName = t.name.slice(0, -".lora_a".length);
    const pair = pairs.get(baseName) ?? {};
    pair[suffix] = t;
    pairs.set(baseName, pair);
  }
  if (pairs.size === 0 && problems.length === 0) problems.push("adapter has no lora_a/lora_b tensors");

  const ranks = new Map<string, number>();
  for (const [name, { a, b }] of pairs) {
    if (!a || !b) {
      problems.push(`tensor ${name} has ${a ? "lora_a" : "lora_b"} but no ${a ? "lora_b" : "lora_a"}`);
      continue;
    }
    for (const t of [a, b]) {
      if (t.type !== 0 && t.type !== 1 && t.type !== 30)
        problems.push(`tensor ${t.name} has type ${ggmlTypeName(t.type)} (F32, F16 or BF16 expected)`);
    }
    const w = base.tensors.get(name);
    if (!w) {
      problems.push(`tensor ${name} does not exist in the base model`);
      continue;
    }
    if (a.dims.length !== 2 || b.dims.length !== 2 || w.dims.length !== 2) {
      problems.push(`tensor ${name}: lora_a, lora_b and the base weight must be 2-D`);
      continue;
    }
    if (name === "token_embd.weight") {
      // llama.cpp applies embedding adapters transposed (see llm_build_inp_embd).
      if (w.dims[0] !== b.dims[1] || w.dims[1] !== a.dims[1])
        problems.push(`tensor ${name}: lora shapes do not match the base tensor [${w.dims.join(", ")}]`);
      ranks.set(name, a.dims[0]);
      continue;
    }
    if (a.dims[0] !== w.dims[0]) problems.push(`${a.name} has shape [${a.dims.join(", ")}] but the base ${name} has input size ${w.dims[0]}`);
    if (b.dims[1] !== w.dims[1]) problems.push(`${b.name} has shape [${b.dims.join(", ")}] but the base ${name} has output size ${w.dims[1]}`);
    if (a.dims[1] !== b.dims[0]) problems.push(`${name}: rank of lora_a (${a.dims[1]}) differs from lora_b (${b.dims[0]})`);
    ranks.set(name, a.dims[1]);
  }
  checkTensorData(file, problems);
  if (problems.length > 0) throw reject();
  return { file, alpha: alpha!, ranks };
}
