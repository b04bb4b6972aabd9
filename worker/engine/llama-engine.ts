// The Engine contract on node-llama-cpp: one model, groups of batched sequences for rollouts, exact
// log-probs, LoRA hot-loading and chat formatting.
import fs from "node:fs";
import os from "node:os";
import { InsufficientMemoryError } from "node-llama-cpp";
import type { ControlledEvaluateInputItem, LlamaContext, LlamaContextOptions, LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import { AdapterVersions, type AdapterVersion } from "./adapter-versions.js";
import { createChatFormatter, type ChatFormatter } from "./chat-format.js";
import { InvalidModelError } from "./errors.js";
import { metaArray } from "./gguf/reader.js";
import { validateAdapterFile, validateModelFile, type ModelSummary } from "./gguf/validate.js";
import { loadLlama, recentLlamaLogs, type GpuChoice } from "./llama-loader.js";
import { LlamaEngineGroup } from "./llama-group.js";
import { logProbOf } from "./log-softmax.js";
import type { ChatMessage, ChatTemplateArgs, Engine, EngineGroup, ModelInfo } from "./types.js";

export interface LlamaEngineOptions {
  modelPath: string;
  /**
   * CPU threads per context. Default: cores - 1 (at least 1). ggml's threads spin at barriers, so
   * using every core collapses as soon as anything else runs: measured on 2 vCPUs with other processes
   * busy, 8 sequences of a tiny model decoded at 6-44 tokens/s with 2 threads and ~1,600-2,000 with 1
   * (node-llama-cpp's own default, at least 4, is worse still). One context decodes all sequences of a
   * group in shared batches, so more sequences per group raise throughput without more threads.
   */
  threads?: number;
  /**
   * Exact mode for consistency checks against PyTorch: flash attention off and F32 K/V cache
   * (log-probs then match a float32 reference to ~1e-5; with defaults the gap is ~1e-2).
   */
  exact?: boolean;
  /** Default tokens per sequence for groups (default: min(model context, 4096)). */
  contextSize?: number;
  /** "auto" (default) uses CUDA/Vulkan/Metal when an installed binary works, else the CPU. */
  gpu?: GpuChoice;
  /** Layers to offload when a GPU is used (default "auto": as many as fit). */
  gpuLayers?: number | "auto" | "max";
  /**
   * Flash attention for rollout contexts. Default: off on the CPU backend (node-llama-cpp's "auto"
   * turns it on there, and on this CPU build it made batched decoding 3-4x slower: 8 sequences of a
   * tiny model after a 1,000-token prompt decoded at 142-181 tokens/s with it and 588-851 without);
   * on GPU backends the library decides ("auto"). Exact mode always turns it off.
   */
  flashAttention?: boolean | "auto";
  /** Tokens per decode batch (default: node-llama-cpp's choice for the context). */
  batchSize?: number;
  /** Where private adapter copies live (default: the OS temp dir). */
  adapterDir?: string;
  /**
   * How old adapter versions give their memory back. "free" (default) disposes each one through
   * node-llama-cpp's adapter cache once no context uses it; "reload" reloads the model every
   * `reloadModelEveryAdapters` versions instead (used automatically if "free" is not possible).
   */
  adapterRelease?: "free" | "reload";
  reloadModelEveryAdapters?: number;
  /**
   * Evaluate a group's shared prompt once and copy its state to the other sequences (default true;
   * llama-group.ts). false has every sequence evaluate the prompt itself: the baseline the rollout
   * benchmark compares against, and the way out should node-llama-cpp's internal copy break.
   */
  sharedPrefill?: boolean;
}

export interface LlamaEngine extends Engine {
  readonly threads: number;
  readonly exact: boolean;
  /** "cpu", "cuda", "vulkan" or "metal". */
  readonly backend: string;
  /** The flash-attention setting every context of this engine gets (see LlamaEngineOptions.flashAttention). */
  readonly flashAttention: boolean | "auto";
  /** Loaded adapter version (increments with each setAdapter with a path), 0 = base. */
  readonly adapterVersion: number;
  /** Times the model file was loaded (more than 1 when adapterRelease "reload" kicked in). */
  readonly modelLoads: number;
}

/** Validate the GGUF, then load it. Throws InvalidModelError for a bad file (the process survives). */
export async function loadLlamaEngine(options: LlamaEngineOptions): Promise<LlamaEngine> {
  const summary = validateModelFile(options.modelPath);
  const llama = await loadLlama(options.gpu ?? "auto");
  const engine = new NodeLlamaEngine(summary, options, llama.gpu === false ? "cpu" : llama.gpu);
  await engine.init(llama);
  return engine;
}

type Llama = Awaited<ReturnType<typeof loadLlama>>;

interface Scorer {
  context: LlamaContext;
  sequence: LlamaContextSequence;
  adapter: AdapterVersion | null;
  size: number;
  /** Tokens and results of the last call (the KV cache holds all but its last token). */
  tokens: number[];
  logProbs: number[];
}

class NodeLlamaEngine implements LlamaEngine {
  readonly info: ModelInfo;
  readonly threads: number;
  readonly exact: boolean;
  readonly flashAttention: boolean | "auto";
  private llama!: Llama;
  private model!: LlamaModel;
  private formatter!: ChatFormatter;
  private readonly adapters: AdapterVersions;
  private readonly openContexts = new Set<LlamaContext>();
  private scorer: Scorer | null = null;
  private scorerQueue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  constructor(
    private readonly summary: ModelSummary,
    private readonly options: LlamaEngineOptions,
    readonly backend: string,
  ) {
    this.threads = options.threads ?? Math.max(1, os.availableParallelism() - 1);
    this.exact = options.exact ?? false;
    this.flashAttention = this.exact ? false : (options.flashAttention ?? (backend === "cpu" ? false : "auto"));
    if (!Number.isInteger(this.threads) || this.threads < 1) throw new RangeError("threads must be a positive integer");
    this.info = {
      architecture: summary.architecture,
      contextLength: summary.contextLength,
      vocabSize: summary.vocabSize,
      eosTokenId: summary.eosTokenId,
      bosTokenId: summary.bosTokenId,
      fileBytes: summary.file.fileSize,
    };
    this.adapters = new AdapterVersions((v) => this.freeNativeAdapter(v), options.adapterDir);
  }

  get adapterVersion(): number {
    return this.adapters.active?.id ?? 0;
  }

  async init(llama: Llama): Promise<void> {
    this.llama = llama;
    try {
      this.model = await this.loadModel();
    } catch (error) {
      this.adapters.removeAll();
      throw error;
    }
    this.buildFormatter();
  }

  private buildFormatter(): void {
    const tokens = metaArray(this.summary.file.metadata, "tokenizer.ggml.tokens")!.value as string[];
    const tokenText = (id: number | null) => (id === null ? "" : this.model.detokenize([id as Token], true) || tokens[id]);
    this.formatter = createChatFormatter({
      chatTemplate: this.summary.chatTemplate,
      bosText: tokenText(this.summary.bosTokenId),
      eosText: tokenText(this.summary.eosTokenId),
      model: this.model,
    });
  }

  private async loadModel(): Promise<LlamaModel> {
    try {
      return await this.llama.loadModel({
        modelPath: this.options.modelPath,
        gpuLayers: this.backend === "cpu" ? 0 : (this.options.gpuLayers ?? "auto"),
        defaultContextFlashAttention: this.flashAttention === "auto" ? undefined : this.flashAttention,
      });
    } catch (error) {
      if (error instanceof InsufficientMemoryError) throw error;
      const logs = recentLlamaLogs().slice(-5).join(" | ");
      const reason = error instanceof Error ? error.message : String(error);
      throw new InvalidModelError(this.options.modelPath, [`llama.cpp could not load it: ${reason}${logs ? ` (${logs})` : ""}`]);
    }
  }

  private ensureOpen(): void {
    if (this.disposed) throw new Error("engine is disposed");
  }

  tokenize(text: string, options?: { specialTokens?: boolean }): number[] {
    this.ensureOpen();
    return Array.from(this.model.tokenize(text, options?.specialTokens ?? false));
  }

  detokenize(tokens: number[]): string {
    this.ensureOpen();
    return this.model.detokenize(tokens as Token[], false);
  }

  formatChat(messages: ChatMessage[], args?: ChatTemplateArgs): string {
    this.ensureOpen();
    return this.formatter(messages, args);
  }

  private contextOptions(sequences: number, contextSize: number, adapter: AdapterVersion | null): LlamaContextOptions {
    const options: LlamaContextOptions = {
      sequences,
      contextSize,
      threads: this.threads,
      failedCreationRemedy: false,
      flashAttention: this.flashAttention,
    };
    if (this.options.batchSize !== undefined) options.batchSize = this.options.batchSize;
    if (this.exact) {
      options.experimentalKvCacheKeyType = "F32";
      options.experimentalKvCacheValueType = "F32";
    }
    if (adapter) options.lora = { adapters: [{ filePath: adapter.path, scale: adapter.scale }] };
    return options;
  }

  /** Open a context holding the current adapter; the adapter version stays alive until it closes. */
  private async openContext(sequences: number, contextSize: number, extra: Partial<LlamaContextOptions> = {}) {
    await this.reloadModelIfAdaptersLeaked();
    const adapter = this.adapters.acquire();
    try {
      const context = await this.model.createContext({ ...this.contextOptions(sequences, contextSize, adapter), ...extra });
      this.openContexts.add(context);
      return { context, adapter };
    } catch (error) {
      await this.adapters.release(adapter);
      throw error;
    }
  }

  private async closeContext(context: LlamaContext, adapter: AdapterVersion | null): Promise<void> {
    if (!this.openContexts.delete(context)) return;
    await context.dispose();
    await this.adapters.release(adapter);
  }

  private defaultContextSize(): number {
    return this.options.contextSize ?? Math.min(this.summary.contextLength, 4096);
  }

  async openGroup(size: number, options?: { tokensPerSequence?: number }): Promise<EngineGroup> {
    this.ensureOpen();
    if (!Number.isInteger(size) || size < 1) throw new RangeError("group size must be a positive integer");
    const tokensPerSequence = options?.tokensPerSequence ?? this.defaultContextSize();
    const { context, adapter } = await this.openContext(size, tokensPerSequence);
    const sequences = Array.from({ length: size }, () => context.getSequence());
    return new LlamaEngineGroup(sequences, this.model, tokensPerSequence, this.options.sharedPrefill ?? true, () =>
      this.closeContext(context, adapter),
    );
  }

  async setAdapter(path: string | null, scale = 1): Promise<void> {
    this.ensureOpen();
    if (!Number.isFinite(scale)) throw new RangeError("adapter scale must be a finite number");
    if (path === null) {
      await this.adapters.clear();
    } else {
      if (!fs.existsSync(path)) throw new InvalidModelError(path, ["file does not exist"], "adapter");
      await this.adapters.install(path, scale, (copy) => {
        try {
          validateAdapterFile(copy, this.summary);
        } catch (error) {
          // Report the caller's path, not the private copy's.
          if (error instanceof InvalidModelError) throw new InvalidModelError(path, error.problems, "adapter");
          throw error;
        }
      });
    }
    // The scoring context holds the previous adapter: drop it so logProbs uses the new one.
    await this.serialiseScoring(() => this.dropScorer());
  }

  async logProbs(tokens: number[], options: { from?: number } = {}): Promise<number[]> {
    this.ensureOpen();
    const from = options.from ?? 0;
    if (!Number.isInteger(from) || from < 0) throw new RangeError(`from must be a non-negative integer (got ${from})`);
    if (tokens.length < 2 + from) return [];
    for (const t of tokens) {
      if (!Number.isInteger(t) || t < 0 || t >= this.summary.vocabSize) throw new RangeError(`token ${t} is outside the vocabulary`);
    }
    return this.serialiseScoring(() => this.score(tokens, from));
  }

  private serialiseScoring<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.scorerQueue.then(fn, fn);
    this.scorerQueue = run.catch(() => undefined);
    return run;
  }

  private async dropScorer(): Promise<void> {
    const scorer = this.scorer;
    this.scorer = null;
    if (scorer) await this.closeContext(scorer.context, scorer.adapter);
  }

  private async score(tokens: number[], from: number): Promise<number[]> {
    // One scoring context is kept while the adapter stays the same and the tokens fit.
    const needed = tokens.length;
    if (!this.scorer || this.scorer.adapter !== this.adapters.active || this.scorer.size < needed) {
      await this.dropScorer();
      const size = Math.max(256, 2 ** Math.ceil(Math.log2(needed + 1)));
      // Logits of every position of a batch are held at once: keep that buffer near 64 MB.
      const batchSize = Math.max(16, Math.min(512, Math.floor(2 ** 26 / (4 * this.summary.vocabSize))));
      const { context, adapter } = await this.openContext(1, size, { batchSize });
      this.scorer = { context, sequence: context.getSequence(), adapter, size, tokens: [], logProbs: [] };
    }
    const scorer = this.scorer;
    // Reuse the previous call's shared prefix: log-probs whose context and target are unchanged are
    // kept, and the KV cache is cut back to just before the first position that needs new logits.
    // Scoring many continuations of one prompt then costs only the continuations.
    let same = 0;
    while (same < tokens.length && same < scorer.tokens.length && tokens[same] === scorer.tokens[same]) same++;
    let start = Math.min(Math.max(0, same - 1), tokens.length - 1);
    // A kept position must hold a log-prob where this call wants one (an earlier call may have skipped it).
    for (let i = from; i < start; i++) {
      if (scorer.logProbs[i] === undefined) {
        start = i;
        break;
      }
    }
    if (start < scorer.sequence.nextTokenIndex) {
      await scorer.sequence.eraseContextTokenRanges([{ start, end: scorer.sequence.nextTokenIndex }]);
    }
    const result = scorer.logProbs.slice(0, start);
    result.length = tokens.length - 1;
    scorer.tokens = [];
    // Logits are needed after every token but the last; each position's full-vocabulary logits are
    // turned into one log-prob as soon as they arrive and dropped, so memory stays O(vocab).
    const input: ControlledEvaluateInputItem[] = tokens
      .slice(start, -1)
      .map((t, j) => (start + j >= from ? [t as Token, { generateNext: { logits: true } }] : (t as Token)));
    await scorer.sequence.controlledEvaluate(input, {
      onTokenResult: (index, output) => {
        if (start + index < from) return;
        const logits = output.next?.logits;
        if (!logits) throw new Error(`no logits for position ${start + index}`);
        result[start + index] = logProbOf(logits, tokens[start + index + 1]);
        delete output.next.logits;
      },
    });
    for (let i = from; i < result.length; i++) {
      if (result[i] === undefined) throw new Error(`log-prob of position ${i + 1} is missing`);
    }
    scorer.tokens = tokens.slice();
    scorer.logProbs = result.slice();
    return result.slice(from);
  }

  /** Free one adapter version's native memory through node-llama-cpp's adapter cache (see adapter-versions.ts). */
  private async freeNativeAdapter(version: AdapterVersion): Promise<boolean> {
    if (this.options.adapterRelease === "reload") return false;
    const cache = (this.model as unknown as { _loraAdapters?: unknown })._loraAdapters;
    if (!(cache instanceof Map)) return false;
    const native = cache.get(version.path) as { dispose?: () => Promise<void> } | undefined;
    if (!native) return true; // never loaded (no context was opened with it)
    if (typeof native.dispose !== "function") return false;
    await native.dispose();
    cache.delete(version.path);
    return true;
  }

  private async reloadModelIfAdaptersLeaked(): Promise<void> {
    const limit = this.options.reloadModelEveryAdapters ?? 20;
    // Only between uses: disposing the model would dispose open contexts with it.
    if (this.adapters.leaked < limit || this.openContexts.size > 0) return;
    await this.model.dispose();
    this.adapters.forgetAll();
    this.model = await this.loadModel();
    this.buildFormatter();
    this.modelLoads++;
  }

  /** How many times the model was loaded (reloads release adapters in "reload" mode). */
  modelLoads = 1;

  async dispose(): Promise<void> {
    if (this.disposed) return;
    await this.serialiseScoring(() => this.dropScorer());
    this.disposed = true;
    this.openContexts.clear();
    await this.model.dispose();
    this.adapters.removeAll();
  }
}
