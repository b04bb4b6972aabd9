// The engine contract the ICRL loop and evaluation are written against. node-llama-cpp implements it
// today; an OpenAI-compatible server (vLLM, llama-server) can implement it later without touching the loop.
import type { ChatTemplateArgs } from "../../contracts/index.js";

export interface SamplingOptions {
  /** 1.0 for on-policy RL rollouts. 0 means greedy. */
  temperature: number;
  /** 0 disables top-k truncation (on-policy training must not truncate the distribution). */
  topK?: number;
  topP?: number;
  minP?: number;
  seed?: number;
}

export type FinishReason = "stop" | "eos" | "length";

export interface TurnResult {
  /** Tokens sampled in this turn, including the one that completed a stop string. */
  tokens: number[];
  /** Detokenized text of `tokens`. */
  text: string;
  finishReason: FinishReason;
  /** The stop string that ended the turn when finishReason is "stop". */
  stopString?: string;
}

export interface GenerateOptions {
  maxTokens: number;
  /** Generation ends right after the first of these appears in the turn's text. */
  stopStrings: string[];
  sampling: SamplingOptions;
  signal?: AbortSignal;
}

/** One sequence (one rollout) of a group; sequences of one group share a context and decode batched. */
export interface EngineSequence {
  /** Queue tokens (prompt, tool result, correction) to be evaluated before the next generation. */
  append(tokens: number[]): void;
  /** Evaluate anything appended, then sample until a stop string, end of sequence or maxTokens. */
  generate(options: GenerateOptions): Promise<TurnResult>;
  /** Tokens held by the sequence so far (evaluated or queued). */
  readonly length: number;
}

export interface EngineGroup {
  readonly sequences: EngineSequence[];
  /**
   * Queue the same tokens (the question's prompt) on every sequence of a fresh group, as append() on
   * each would. An engine may evaluate them once and share the result among the sequences.
   */
  appendShared(tokens: readonly number[]): void;
  /**
   * Tokens of the shared prompt the engine has evaluated so far, summed over the sequences: G times the
   * prompt when each sequence evaluates it, about the prompt's length when it is evaluated once.
   * Undefined where an engine does not count them.
   */
  readonly promptTokensEvaluated?: number;
  dispose(): Promise<void>;
}

/** Extra variables for a model's Jinja chat template: the configs' type (JSON values). */
export type { ChatTemplateArgs };

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface ModelInfo {
  architecture: string;
  contextLength: number;
  vocabSize: number;
  eosTokenId: number | null;
  bosTokenId: number | null;
  /** Size of the model file in bytes. */
  fileBytes: number;
}

export interface Engine {
  readonly info: ModelInfo;
  tokenize(text: string, options?: { specialTokens?: boolean }): number[];
  detokenize(tokens: number[]): string;
  /**
   * Render messages through the model's chat template, ending with the assistant turn opener. `args` are
   * extra template variables, as Hugging Face's apply_chat_template(**kwargs) passes them (Qwen3:
   * { enable_thinking: false }).
   */
  formatChat(messages: ChatMessage[], args?: ChatTemplateArgs): string;
  /** A context holding `size` parallel sequences, each with room for `tokensPerSequence` tokens. */
  openGroup(size: number, options?: { tokensPerSequence?: number }): Promise<EngineGroup>;
  /** Hot-load a LoRA adapter for groups opened from now on (null = base model). */
  setAdapter(path: string | null, scale?: number): Promise<void>;
  /**
   * Per-token log-probabilities of tokens[i] given tokens[0..i-1], for i >= 1 (length tokens.length - 1).
   * With `from`, only for i > from (length tokens.length - 1 - from): the positions before are evaluated
   * without logits, which at a 150k vocabulary is most of the cost of scoring a prompt.
   */
  logProbs(tokens: number[], options?: { from?: number }): Promise<number[]>;
  dispose(): Promise<void>;
}
