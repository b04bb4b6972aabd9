// Writes a LoRA adapter GGUF in the layout llama.cpp loads (and the Python learner exports): metadata
// general.type "adapter", adapter.type "lora", adapter.lora.alpha (f32), general.architecture of the
// base; tensors `<base tensor>.lora_a` with ggml dims [in, r] and `.lora_b` with [r, out] (PEFT's torch
// shapes [r, in] and [out, r], no transpose). Effective weight: W + scale * (alpha / r) * B A.
// Used by tests and tools; random values from a seed, or explicit matrices.
import { GgmlType } from "./ggml-types.js";
import type { GgufMetadata } from "./types.js";
import { gguf, writeGguf, type GgufTensorToWrite } from "./writer.js";

export interface LoraTensorValues {
  /** Base tensor name, e.g. "blk.0.attn_q.weight". */
  target: string;
  /** Input and output size of the base weight (ggml dims [in, out]). */
  inputs: number;
  outputs: number;
  /** torch [r, in], row-major. */
  a: Float32Array;
  /** torch [out, r], row-major. */
  b: Float32Array;
}

export function writeLoraAdapter(options: {
  out: string;
  architecture: string;
  rank: number;
  alpha: number;
  tensors: LoraTensorValues[];
  /** Extra or overriding metadata (tests use it to write broken adapters). */
  metadata?: GgufMetadata;
}): void {
  const metadata: GgufMetadata = new Map([
    ["general.architecture", gguf.str(options.architecture)],
    ["general.type", gguf.str("adapter")],
    ["adapter.type", gguf.str("lora")],
    ["adapter.lora.alpha", gguf.f32(options.alpha)],
  ]);
  for (const [k, v] of options.metadata ?? []) metadata.set(k, v);
  const tensors: GgufTensorToWrite[] = [];
  for (const t of options.tensors) {
    tensors.push({ name: `${t.target}.lora_a`, dims: [t.inputs, options.rank], type: GgmlType.F32, data: t.a });
    tensors.push({ name: `${t.target}.lora_b`, dims: [options.rank, t.outputs], type: GgmlType.F32, data: t.b });
  }
  writeGguf(options.out, metadata, tensors);
}

/** Seeded uniform(-range, range) matrix values (a splitmix-style generator; good enough for tests). */
export function seededValues(n: number, seed: number, range: number): Float32Array {
  const out = new Float32Array(n);
  let state = (seed * 2654435761) >>> 0;
  for (let i = 0; i < n; i++) {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    out[i] = (z / 4294967296 - 0.5) * 2 * range;
  }
  return out;
}
