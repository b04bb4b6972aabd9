// One rollout on a node-llama-cpp context sequence. Sequences of one context decode batched: concurrent
// generate() calls on them are merged into shared llama_decode batches by node-llama-cpp.
//
// Token bookkeeping: node-llama-cpp evaluates a sampled token only when asked for the next one, so
// when a turn ends (stop string, eos, max tokens) its last token is not in the KV cache yet. It is
// kept in `pending` and evaluated first by the next generate(), followed by whatever was appended
// (tool results, corrections). `length` counts evaluated + pending tokens.
//
// A prompt shared by the whole group (llama-group.ts) reaches a sequence as a shared prefix: all but
// its last token are evaluated once, on one sequence of the group, and copied here; its last token is
// pending like any other, so the first generate() evaluates it and samples from its logits exactly as
// if the sequence had been handed the whole prompt.
import { randomInt } from "node:crypto";
import type { LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import { StopStringDetector } from "./stop-strings.js";
import type { EngineSequence, GenerateOptions, TurnResult } from "./types.js";

/**
 * 32-bit hash of (seed, sequence index, turn) so sequences and turns get independent RNG streams
 * (MurmurHash3's block and finalisation steps). Each step is a bijection of the running hash for a
 * fixed input word, and each input word is mixed on its own before it is combined, so changing any one
 * of the three inputs always changes the result, and distinct (seed, sequence) pairs do not collapse
 * onto one stream (a plain `seed ^ sequence` start made (s, s) the same stream for every s).
 */
export function deriveSeed(seed: number, sequenceIndex: number, turn: number): number {
  let h = seed >>> 0;
  for (const v of [sequenceIndex, turn]) {
    let k = Math.imul(v >>> 0, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= 8;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h = (h ^ (h >>> 16)) >>> 0;
  // 0xffffffff is llama.cpp's "pick a random seed" value.
  return h === 0xffffffff ? 0 : h;
}

/** What a group counts across its sequences. */
export interface GroupCounters {
  /** Tokens of the group's shared prompt sent through llama_decode, summed over all sequences. */
  promptTokensEvaluated: number;
}

/** All but the last token of the group's prompt, being put into this sequence's KV cache by the group. */
export interface SharedPrefix {
  length: number;
  /** Resolves once this sequence holds the prefix (evaluated here or copied from another sequence). */
  ready: () => Promise<void>;
}

export class LlamaEngineSequence implements EngineSequence {
  private pending: number[] = [];
  /** How many tokens at the head of `pending` belong to the shared prompt (counted once evaluated). */
  private pendingPromptTokens = 0;
  private sharedPrefix: SharedPrefix | null = null;
  private turn = 0;
  private busy = false;

  constructor(
    private readonly sequence: LlamaContextSequence,
    private readonly model: LlamaModel,
    private readonly index: number,
    /** Tokens this sequence may hold (the requested size; llama.cpp may pad the context beyond it). */
    private readonly capacity: number,
    private readonly counters: GroupCounters = { promptTokensEvaluated: 0 },
  ) {}

  get length(): number {
    // While the prefix is on its way, the KV cache holds part of it at most: count it whole.
    const held = this.sharedPrefix ? this.sharedPrefix.length : this.sequence.nextTokenIndex;
    return held + this.pending.length;
  }

  append(tokens: number[]): void {
    for (const t of tokens) this.pending.push(t);
  }

  /**
   * Start a fresh sequence from the group's prompt: `prefix` (all of it but the last token) is put in
   * the KV cache by the group and its last token is queued. Without a prefix the whole prompt is queued.
   */
  startPrompt(prompt: readonly number[], prefix: SharedPrefix | null): void {
    if (this.length !== 0) throw new Error("a shared prompt starts a fresh sequence");
    if (prefix && prefix.length !== prompt.length - 1) throw new Error("the shared prefix is the prompt without its last token");
    this.sharedPrefix = prefix;
    this.pending = prefix ? [prompt[prompt.length - 1]] : [...prompt];
    this.pendingPromptTokens = this.pending.length;
  }

  async generate(options: GenerateOptions): Promise<TurnResult> {
    if (this.busy) throw new Error("generate() is already running on this sequence");
    if (this.length === 0) throw new Error("nothing to generate from: append a prompt first");
    this.busy = true;
    try {
      return await this.run(options);
    } finally {
      this.busy = false;
    }
  }

  private async run(options: GenerateOptions): Promise<TurnResult> {
    const { sampling, signal } = options;
    signal?.throwIfAborted();
    if (this.sharedPrefix) {
      await this.sharedPrefix.ready();
      this.sharedPrefix = null;
      signal?.throwIfAborted();
    }
    // Never let node-llama-cpp shift the context (it would silently drop the prompt's start): a turn
    // may sample at most contextSize - length tokens (the last sampled token stays unevaluated).
    const room = Math.min(this.capacity, this.sequence.contextSize) - this.length;
    const maxTokens = Math.min(options.maxTokens, room);
    if (maxTokens <= 0) return { tokens: [], text: "", finishReason: "length" };

    // Without an explicit seed node-llama-cpp seeds from the current second: every sequence of a
    // group would share one RNG stream and sample identical rollouts. Always pass a distinct seed.
    const turn = this.turn++;
    const seed = sampling.seed === undefined ? randomInt(0, 0xffffffff) : deriveSeed(sampling.seed, this.index, turn);
    const detector = new StopStringDetector(options.stopStrings, (t) => this.model.detokenize(t as Token[], false));
    const input = this.pending;
    const evaluatedBefore = this.sequence.nextTokenIndex;
    this.pending = [];
    const tokens: number[] = [];
    let finishReason: TurnResult["finishReason"] = "length";
    let stopString: string | undefined;
    try {
      const iterator = this.sequence.evaluate(input as Token[], {
        temperature: sampling.temperature,
        topK: sampling.topK ?? 0,
        topP: sampling.topP ?? 1,
        minP: sampling.minP ?? 0,
        seed,
        yieldEogToken: true,
        contextShift: { strategy: refuseContextShift },
      });
      for await (const token of iterator) {
        tokens.push(token);
        if (this.model.isEogToken(token)) {
          finishReason = "eos";
          break;
        }
        const stop = detector.check(tokens);
        if (stop !== null) {
          finishReason = "stop";
          stopString = stop;
          break;
        }
        if (tokens.length >= maxTokens) break;
        if (signal?.aborted) break;
      }
    } finally {
      // The last sampled token was never evaluated. If evaluation failed before sampling anything,
      // re-queue whatever part of the input did not reach the KV cache. Tokens appended while the
      // turn ran come after them.
      const evaluated = tokens.length > 0 ? input.length : this.sequence.nextTokenIndex - evaluatedBefore;
      const unevaluated = tokens.length > 0 ? [tokens[tokens.length - 1]] : input.slice(evaluated);
      this.pending = [...unevaluated, ...this.pending];
      const promptEvaluated = Math.min(this.pendingPromptTokens, evaluated);
      this.counters.promptTokensEvaluated += promptEvaluated;
      this.pendingPromptTokens -= promptEvaluated;
    }
    signal?.throwIfAborted();
    const result: TurnResult = { tokens, text: this.model.detokenize(tokens as Token[], false), finishReason };
    if (stopString !== undefined) result.stopString = stopString;
    return result;
  }
}

function refuseContextShift(): never {
  throw new Error("sequence is out of context space (context shifting is disabled)");
}
