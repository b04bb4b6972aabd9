// Shared by the learner tests: temp directories and tiny models shaped like the learner's Python tests'.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type TinyModelOptions, writeTinyModel } from "../../worker/engine/tiny-model.js";

export const PYTHON = process.env.ICRL_PYTHON ?? "/usr/bin/python3";

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * A random GGUF with the learner tests' defaults (64 wide, fixed 0.08 init with non-trivial norms, which
 * exposes a reader that misplaces a norm), e.g. writeLearnerTinyModel(out, { arch: "qwen3" }).
 */
export function writeLearnerTinyModel(out: string, options: Omit<TinyModelOptions, "out"> = {}): string {
  writeTinyModel({ dim: 64, ff: 128, context: 512, seed: 0, std: 0.08, ...options, out });
  return out;
}

/** Deterministic token ids in [0, vocab). */
export function seededTokens(n: number, seed: number, vocab = 256): number[] {
  let state = seed >>> 0;
  return Array.from({ length: n }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % vocab;
  });
}

export function maxAbsDiff(a: number[], b: number[]): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
}
