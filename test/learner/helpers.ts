// Shared by the learner tests: temp directories and tiny models written by the learner's own writer.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { LEARNER_DIR } from "../../worker/learner/driver.js";

export const PYTHON = process.env.ICRL_PYTHON ?? "/usr/bin/python3";

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Write a random GGUF with `python3 -m icrl_learner.tiny_model` (flags as in TinySpec, e.g. {arch: "qwen3"}). */
export function writePythonTinyModel(out: string, spec: Record<string, string | number | boolean> = {}): string {
  const args = ["-m", "icrl_learner.tiny_model", "--out", out];
  for (const [key, value] of Object.entries(spec)) {
    const flag = `--${key.replace(/_/g, "-")}`;
    if (value === true) args.push(flag);
    else if (value !== false) args.push(flag, String(value));
  }
  execFileSync(PYTHON, args, { env: { ...process.env, PYTHONPATH: LEARNER_DIR }, stdio: "pipe" });
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
