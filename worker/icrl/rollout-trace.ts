// Accumulates one rollout as it runs: the segments for people, and the token ids + loss mask for the
// learner. Every token that enters the sequence after the prompt goes through here, so the ids are
// exactly what the engine evaluated and the mask is 1 exactly on tokens the model sampled.
import type { ToolErrorCode } from "../tools/types.js";
import type { RolloutFinishReason, Segment } from "../../contracts/index.js";

export interface ToolCallRecord {
  /** 1-based turn in which the call was made. */
  turn: number;
  tool: string;
  input: string;
  ok: boolean;
  errorCode?: ToolErrorCode;
  /** Wall time of the call as seen by the loop. */
  durationMs: number;
  /** Observation tokens inserted, after truncation. */
  observationTokens: number;
  truncated: boolean;
}

export interface RolloutResult {
  /** Position of this rollout's sequence in the group. */
  sampleIndex: number;
  segments: Segment[];
  /** Token ids after the prompt (the prompt is RolloutGroupResult.promptIds, shared by the group). */
  responseIds: number[];
  /** One entry per responseIds entry: 1 where the model sampled the token, 0 where the loop inserted it. */
  lossMask: number[];
  /** Every segment's text in order: the whole response, tool results and corrections included. */
  responseText: string;
  /** Only what the model wrote (MODEL + TOOL_CALL segments): score this, not responseText. */
  modelText: string;
  finishReason: RolloutFinishReason;
  /** The engine's error when finishReason is "error". */
  error?: string;
  /** Generation turns (calls to the engine). */
  turns: number;
  toolCallsValid: number;
  /** Attempted calls that could not be run (unclosed tag, empty input, unknown tool, ...). */
  toolCallsInvalid: number;
  /** Valid calls whose tool reported a failure (timeout, runtime error, ...). */
  toolErrors: number;
  corrections: number;
  promptTokens: number;
  responseTokens: number;
  /** Tokens with loss mask 1. */
  modelTokens: number;
  toolCalls: ToolCallRecord[];
  timing: { generationMs: number; toolMs: number; totalMs: number };
}

export class RolloutTrace {
  readonly segments: Segment[] = [];
  readonly responseIds: number[] = [];
  readonly lossMask: number[] = [];
  readonly toolCalls: ToolCallRecord[] = [];
  turns = 0;
  toolCallsValid = 0;
  toolCallsInvalid = 0;
  toolErrors = 0;
  corrections = 0;
  generationMs = 0;
  toolMs = 0;

  constructor(
    readonly sampleIndex: number,
    readonly promptTokens: number,
    readonly maxResponseTokens: number,
  ) {}

  get responseTokens(): number {
    return this.responseIds.length;
  }

  get remainingTokens(): number {
    return this.maxResponseTokens - this.responseIds.length;
  }

  /** A sampled turn; `callStart` splits the text into MODEL and TOOL_CALL segments. */
  addModelTurn(tokens: number[], text: string, call?: { start: number; tool: string; input: string }): void {
    this.pushTokens(tokens, 1);
    const split = call ? call.start : text.length;
    if (split > 0 || !call) this.segments.push({ kind: "MODEL", text: text.slice(0, split) });
    if (call) this.segments.push({ kind: "TOOL_CALL", text: text.slice(split), tool: call.tool, input: call.input });
  }

  /** Text the loop inserts (loss mask 0). Returns false, inserting nothing, when it would exceed the budget. */
  addInserted(segment: Segment, tokens: number[]): boolean {
    if (tokens.length > this.remainingTokens) return false;
    this.pushTokens(tokens, 0);
    this.segments.push(segment);
    return true;
  }

  private pushTokens(tokens: number[], mask: 0 | 1): void {
    for (const token of tokens) {
      this.responseIds.push(token);
      this.lossMask.push(mask);
    }
  }

  finish(finishReason: RolloutFinishReason, totalMs: number, error?: string): RolloutResult {
    const text = (kinds: Set<string>) =>
      this.segments
        .filter((s) => kinds.has(s.kind))
        .map((s) => s.text)
        .join("");
    return {
      sampleIndex: this.sampleIndex,
      segments: this.segments,
      responseIds: this.responseIds,
      lossMask: this.lossMask,
      responseText: this.segments.map((s) => s.text).join(""),
      modelText: text(new Set(["MODEL", "TOOL_CALL"])),
      finishReason,
      ...(error === undefined ? {} : { error }),
      turns: this.turns,
      toolCallsValid: this.toolCallsValid,
      toolCallsInvalid: this.toolCallsInvalid,
      toolErrors: this.toolErrors,
      corrections: this.corrections,
      promptTokens: this.promptTokens,
      responseTokens: this.responseIds.length,
      modelTokens: this.lossMask.reduce((a, b) => a + b, 0),
      toolCalls: this.toolCalls,
      timing: { generationMs: this.generationMs, toolMs: this.toolMs, totalMs },
    };
  }
}

/** What the learner trains on: prompt + response ids, and the mask over the response part. */
export function toLearnerSample(
  promptIds: readonly number[],
  rollout: Pick<RolloutResult, "responseIds" | "lossMask">,
): { tokens: number[]; promptLength: number; lossMask: number[] } {
  return {
    tokens: [...promptIds, ...rollout.responseIds],
    promptLength: promptIds.length,
    lossMask: [...rollout.lossMask],
  };
}
