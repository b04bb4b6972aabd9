// Copying one sequence's KV state into another sequence of the same context, so a prompt shared by a
// group is evaluated once (see llama-group.ts). node-llama-cpp 3.22.1 does this for its own
// LlamaDecisionContext with `LlamaContextSequence._copyStateFromOtherSequence(other, upToTokenIndex)`,
// which is internal, not public API: this file is the only place that touches it, and
// test/engine/shared-prefill.test.ts fails loudly when the library drops or changes it.
//
// What the 3.22.1 method does (dist/evaluator/LlamaContext/LlamaContext.js): under the context lock it
// replaces the target's token bookkeeping with the source's (contextTokens, nextTokenIndex, checkpoints;
// token predictions cleared), then calls the native copySequenceStateFromOtherSequence, which runs
// llama_memory_seq_cp over the whole source sequence (with per-sequence KV streams, node-llama-cpp's
// setting, the target's stream is replaced, so the target need not be empty), and finally erases
// anything past upToTokenIndex. It returns true only when the target then holds exactly upToTokenIndex
// tokens. It does not work with token predictors (the engine uses none).
import type { LlamaContextSequence } from "node-llama-cpp";

interface SequenceInternals {
  _copyStateFromOtherSequence?: (other: LlamaContextSequence, upToTokenIndex: number) => Promise<boolean>;
}

/** Thrown when the installed node-llama-cpp no longer copies sequence state as this file expects. */
export class SequenceStateCopyUnsupportedError extends Error {
  constructor(detail: string) {
    super(`node-llama-cpp cannot copy a sequence's state as expected (${detail}); set the engine option sharedPrefill: false`);
    this.name = "SequenceStateCopyUnsupportedError";
  }
}

/** Whether the installed node-llama-cpp has the internal method at all. */
export function canCopySequenceState(sequence: LlamaContextSequence): boolean {
  return typeof (sequence as unknown as SequenceInternals)._copyStateFromOtherSequence === "function";
}

/**
 * Make `target` hold the first `tokens` tokens of `source` (KV cache and token bookkeeping), as if it
 * had evaluated them itself. Both must belong to one context; `source` must not be evaluating.
 */
export async function copySequenceState(target: LlamaContextSequence, source: LlamaContextSequence, tokens: number): Promise<void> {
  if (target.context !== source.context) throw new Error("sequence state can only be copied within one context");
  if (!Number.isInteger(tokens) || tokens < 0 || tokens > source.nextTokenIndex) {
    throw new RangeError(`cannot copy ${tokens} tokens from a sequence holding ${source.nextTokenIndex}`);
  }
  const copy = (target as unknown as SequenceInternals)._copyStateFromOtherSequence;
  if (typeof copy !== "function") throw new SequenceStateCopyUnsupportedError("LlamaContextSequence._copyStateFromOtherSequence is missing");
  const copied = await copy.call(target, source, tokens);
  if (copied !== true) throw new SequenceStateCopyUnsupportedError(`_copyStateFromOtherSequence returned ${String(copied)}`);
  // The bookkeeping is what the next evaluate() appends to: check it rather than trust the return value.
  if (target.nextTokenIndex !== tokens) {
    throw new SequenceStateCopyUnsupportedError(`the copy holds ${target.nextTokenIndex} tokens, expected ${tokens}`);
  }
  const held = target.contextTokens;
  const expected = source.contextTokens.slice(0, tokens);
  if (held.length !== expected.length || held.some((t, i) => t !== expected[i])) {
    throw new SequenceStateCopyUnsupportedError("the copy's context tokens differ from the source's");
  }
}
