// A group of G sequences on one node-llama-cpp context: the G rollouts of one question. Their prompt
// is the same, and at real sizes evaluating it dominates a group's work (at the Qwen2.5-0.5B body
// shape on 2 threads, G = 8 with a 680-token prompt and 64 sampled tokens each took 64 s, most of it
// the prompt evaluated 8 times). With sharedPrefill, appendShared() has the prompt evaluated once:
// the first generate() of the group evaluates all but its last token on sequence 0 and copies that
// state to the other sequences (sequence-state-copy.ts); each sequence then evaluates the last token
// itself and samples from its logits, as it would have after evaluating the whole prompt.
import type { LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import { type GroupCounters, LlamaEngineSequence, type SharedPrefix } from "./llama-sequence.js";
import { copySequenceState } from "./sequence-state-copy.js";
import type { EngineGroup } from "./types.js";

export class LlamaEngineGroup implements EngineGroup {
  readonly sequences: LlamaEngineSequence[];
  private readonly counters: GroupCounters = { promptTokensEvaluated: 0 };
  private closed = false;

  constructor(
    private readonly contextSequences: LlamaContextSequence[],
    model: LlamaModel,
    capacity: number,
    /** Evaluate a shared prompt once and copy it (false: every sequence evaluates it, the old path). */
    private readonly sharedPrefill: boolean,
    private readonly close: () => Promise<void>,
  ) {
    this.sequences = contextSequences.map((s, i) => new LlamaEngineSequence(s, model, i, capacity, this.counters));
  }

  get promptTokensEvaluated(): number {
    return this.counters.promptTokensEvaluated;
  }

  appendShared(tokens: readonly number[]): void {
    const fresh = this.sequences.every((s) => s.length === 0);
    if (!fresh) {
      for (const s of this.sequences) s.append([...tokens]);
      return;
    }
    // Nothing to share with one sequence, and a one-token prompt has no prefix before its last token.
    const share = this.sharedPrefill && this.sequences.length > 1 && tokens.length > 1;
    const prefix = share ? this.prefixOf(tokens.slice(0, -1)) : null;
    for (const s of this.sequences) s.startPrompt(tokens, prefix);
  }

  /** The prefix evaluated on sequence 0 and copied to the rest, once, when the first sequence needs it. */
  private prefixOf(prefix: number[]): SharedPrefix {
    let prefilled: Promise<void> | null = null;
    const prefill = async () => {
      const [first, ...rest] = this.contextSequences;
      await first.evaluateWithoutGeneratingNewTokens(prefix as Token[]);
      this.counters.promptTokensEvaluated += prefix.length;
      for (const other of rest) await copySequenceState(other, first, prefix.length);
    };
    return {
      length: prefix.length,
      ready: () => {
        prefilled ??= prefill();
        return prefilled;
      },
    };
  }

  async dispose(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.close();
  }
}
