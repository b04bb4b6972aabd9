// Shared fixtures for the engine tests: tiny models written into a temp dir, and GGUF edits done with
// our own reader + writer (which doubles as a round-trip check).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { readGguf, readTensorData } from "../../worker/engine/gguf/reader.js";
import type { GgufMetadata } from "../../worker/engine/gguf/types.js";
import { writeGguf, type GgufTensorToWrite } from "../../worker/engine/gguf/writer.js";
import { seededValues, writeLoraAdapter, type LoraTensorValues } from "../../worker/engine/gguf/lora-writer.js";

export function makeTempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `icrl-${prefix}-`));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export interface LoadedGguf {
  metadata: GgufMetadata;
  tensors: GgufTensorToWrite[];
}

/** Read a whole (small, F32/F16) GGUF into memory, tensors as float32. */
export function loadWholeGguf(file: string): LoadedGguf {
  const parsed = readGguf(file);
  return {
    metadata: parsed.metadata,
    tensors: parsed.tensors.map((t) => ({
      name: t.name,
      dims: t.dims,
      type: t.type as 0 | 1,
      data: readTensorData(parsed, t),
    })),
  };
}

/** Rewrite a GGUF after editing its metadata and/or tensors. */
export function rewriteGguf(source: string, target: string, edit: (g: LoadedGguf) => void): void {
  const g = loadWholeGguf(source);
  edit(g);
  writeGguf(target, g.metadata, g.tensors);
}

export function tensor(g: LoadedGguf, name: string): GgufTensorToWrite {
  const t = g.tensors.find((x) => x.name === name);
  if (!t) throw new Error(`no tensor ${name}`);
  return t;
}

/**
 * A model that tends to end its turns: every token embedding gets a large constant in dimension 0, so
 * the normalised final hidden state points mostly along dimension 0, and the eos row of output.weight
 * gets `eosWeight` there. eos then has a logit of about eosWeight * sqrt(dim) at every position.
 */
export function writeEosProneModel(source: string, target: string, eosId: number, eosWeight: number): void {
  rewriteGguf(source, target, (g) => {
    const embd = tensor(g, "token_embd.weight");
    const dim = embd.dims[0];
    for (let row = 0; row < embd.dims[1]; row++) embd.data[row * dim] += 100;
    const out = tensor(g, "output.weight");
    out.data[eosId * dim] = eosWeight;
  });
}

/** Random LoRA on the attention and feed-forward matrices of every block of a tiny model. */
export function writeRandomLora(options: {
  base: string;
  out: string;
  rank: number;
  alpha: number;
  seed: number;
  range?: number;
  targets?: string[];
}): LoraTensorValues[] {
  const base = readGguf(options.base);
  const targets = options.targets ?? ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"];
  const tensors: LoraTensorValues[] = [];
  for (const t of base.tensors) {
    const m = /^blk\.\d+\.(\w+)\.weight$/.exec(t.name);
    if (!m || !targets.includes(m[1])) continue;
    const [inputs, outputs] = t.dims;
    const seed = options.seed * 1000 + tensors.length;
    tensors.push({
      target: t.name,
      inputs,
      outputs,
      a: seededValues(options.rank * inputs, seed, options.range ?? 0.2),
      b: seededValues(outputs * options.rank, seed + 500, options.range ?? 0.2),
    });
  }
  writeLoraAdapter({ out: options.out, architecture: "llama", rank: options.rank, alpha: options.alpha, tensors });
  return tensors;
}

/** Fold a LoRA into the base weights: W' = W + scale * (alpha / r) * B A (torch [out, in] layout). */
export function writeMergedModel(base: string, out: string, lora: LoraTensorValues[], rank: number, alpha: number, scale: number): void {
  rewriteGguf(base, out, (g) => {
    for (const l of lora) {
      const w = tensor(g, l.target);
      const factor = scale * (alpha / rank);
      for (let o = 0; o < l.outputs; o++) {
        for (let i = 0; i < l.inputs; i++) {
          let sum = 0;
          for (let r = 0; r < rank; r++) sum += l.b[o * rank + r] * l.a[r * l.inputs + i];
          w.data[o * l.inputs + i] += factor * sum;
        }
      }
    }
  });
}

export function maxAbsDiff(a: number[], b: number[]): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
}
