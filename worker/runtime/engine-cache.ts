// Keeps the last loaded model between jobs: a benchmark sweep over checkpoints of one model (or many
// benchmarks of one checkpoint) loads the GGUF once. One model at a time, since a GPU worker rarely
// has room for two; a job for another model disposes the previous one first.
import fs from "node:fs";
import path from "node:path";
import { InvalidModelError } from "../engine/errors.js";
import { loadLlamaEngine, type LlamaEngine } from "../engine/llama-engine.js";
import type { GpuChoice } from "../engine/llama-loader.js";
import { JobInputError } from "./errors.js";

export interface EngineCacheOptions {
  threads?: number;
  gpu?: GpuChoice;
  /** Where the engine keeps private adapter copies. */
  adapterDir?: string;
}

export class EngineCache {
  private current: { key: string; engine: Promise<LlamaEngine> } | null = null;

  constructor(private readonly options: EngineCacheOptions = {}) {}

  /** The CPU threads the worker gives compute (llama.cpp here; the learner of a TRAIN job too). */
  get threads(): number | undefined {
    return this.options.threads;
  }

  /**
   * The engine for this model file, loading it (and dropping any other) when needed. `field` names
   * where the job's input gave the path, so a missing file points the user at the setting to fix.
   */
  async get(modelPath: string, field = "the model path"): Promise<LlamaEngine> {
    const resolved = path.resolve(modelPath);
    const key = resolved;
    if (this.current?.key === key) {
      const engine = await this.current.engine.catch(() => null);
      if (engine) return engine;
    }
    await this.dispose();
    checkModelPath(resolved, modelPath, field);
    const engine = loadLlamaEngine({
      modelPath: resolved,
      threads: this.options.threads,
      gpu: this.options.gpu,
      adapterDir: this.options.adapterDir,
    }).catch((error: unknown) => {
      if (error instanceof InvalidModelError) throw new JobInputError(error.message, { cause: error });
      throw error;
    });
    this.current = { key, engine };
    try {
      return await engine;
    } catch (error) {
      this.current = null;
      throw error;
    }
  }

  async dispose(): Promise<void> {
    const current = this.current;
    this.current = null;
    if (!current) return;
    const engine = await current.engine.catch(() => null);
    await engine?.dispose();
  }
}

function checkModelPath(resolved: string, given: string, field: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(resolved);
  } catch {
    throw new JobInputError(
      `Model file ${given} does not exist on this worker (resolved to ${resolved}). ${field} must be the path of a GGUF file as the worker sees it.`,
    );
  }
  if (!stat.isFile()) throw new JobInputError(`Model path ${given} is not a file (resolved to ${resolved}).`);
}
