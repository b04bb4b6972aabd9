// A test double for the POLICY only: an Engine whose "model" writes scripted text. Tokenization is
// byte-level UTF-8 (ids 0..255) plus one end-of-sequence id, and generation follows the engine
// contract: one token at a time, stop right after a stop string, an EOS token when the script's text
// runs out, "length" at maxTokens. Every token that enters a sequence is logged with who put it
// there, so tests can check the loop's ids and loss mask against the truth.
import type { ChatMessage, Engine, EngineGroup, EngineSequence, GenerateOptions, ModelInfo, TurnResult } from "../../worker/engine/types.js";

export const EOS = 256;

export interface ScriptTurnContext {
  sampleIndex: number;
  /** 0-based generation turn of this sequence. */
  turn: number;
  /** Everything in the sequence so far (prompt included), decoded. */
  context: string;
  options: GenerateOptions;
}

/** What the scripted model writes in one turn; "throw" makes generate() fail. */
export type ScriptTurn = string | { throw: string };
export type Policy = (ctx: ScriptTurnContext) => ScriptTurn;

export interface LoggedToken {
  id: number;
  sampled: boolean;
}

export interface EngineEvent {
  sampleIndex: number;
  kind: "generate-start" | "generate-end";
  turn: number;
  at: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function bytesOf(text: string): number[] {
  return [...encoder.encode(text)];
}

export function textOf(ids: readonly number[]): string {
  return decoder.decode(Uint8Array.from(ids.filter((id) => id < 256)));
}

export class ScriptedSequence implements EngineSequence {
  readonly log: LoggedToken[] = [];
  turns = 0;
  lastOptions: GenerateOptions[] = [];

  constructor(
    readonly sampleIndex: number,
    private readonly policy: Policy,
    private readonly events: EngineEvent[],
  ) {}

  get length(): number {
    return this.log.length;
  }

  append(tokens: number[]): void {
    for (const id of tokens) this.log.push({ id, sampled: false });
  }

  async generate(options: GenerateOptions): Promise<TurnResult> {
    const turn = this.turns++;
    this.lastOptions.push(options);
    this.events.push({ sampleIndex: this.sampleIndex, kind: "generate-start", turn, at: performance.now() });
    const script = this.policy({
      sampleIndex: this.sampleIndex,
      turn,
      context: textOf(this.log.map((t) => t.id)),
      options,
    });
    if (typeof script !== "string") throw new Error(script.throw);
    const planned = [...bytesOf(script), EOS];
    const tokens: number[] = [];
    let finishReason: TurnResult["finishReason"] = "length";
    let stopString: string | undefined;
    for (const id of planned) {
      if (tokens.length >= options.maxTokens) break;
      // Yield between tokens, so concurrent sequences interleave as they do in a batched engine.
      await Promise.resolve();
      tokens.push(id);
      this.log.push({ id, sampled: true });
      if (id === EOS) {
        finishReason = "eos";
        break;
      }
      const text = textOf(tokens);
      stopString = options.stopStrings.find((s) => text.includes(s));
      if (stopString !== undefined) {
        finishReason = "stop";
        break;
      }
    }
    this.events.push({ sampleIndex: this.sampleIndex, kind: "generate-end", turn, at: performance.now() });
    return { tokens, text: textOf(tokens), finishReason, ...(stopString ? { stopString } : {}) };
  }
}

export class ScriptedEngine implements Engine {
  readonly info: ModelInfo = {
    architecture: "scripted",
    contextLength: 1 << 20,
    vocabSize: 257,
    eosTokenId: EOS,
    bosTokenId: null,
    fileBytes: 0,
  };
  readonly events: EngineEvent[] = [];
  readonly groups: ScriptedSequence[][] = [];

  constructor(private readonly policy: Policy) {}

  tokenize(text: string): number[] {
    return bytesOf(text);
  }

  detokenize(tokens: number[]): string {
    return textOf(tokens);
  }

  formatChat(messages: ChatMessage[]): string {
    return messages.map((m) => `<|${m.role}|>\n${m.content}\n`).join("") + "<|assistant|>\n";
  }

  async openGroup(size: number): Promise<EngineGroup> {
    const sequences = Array.from({ length: size }, (_, i) => new ScriptedSequence(i, this.policy, this.events));
    this.groups.push(sequences);
    return {
      sequences,
      appendShared: (tokens) => {
        for (const s of sequences) s.append([...tokens]);
      },
      dispose: async () => {},
    };
  }

  async setAdapter(): Promise<void> {}

  async logProbs(tokens: number[]): Promise<number[]> {
    return tokens.slice(1).map(() => 0);
  }

  async dispose(): Promise<void> {}
}

/** A policy that writes `turns[i]` in its i-th turn (the same for every sequence), then only EOS. */
export function scriptedTurns(turns: ScriptTurn[] | ((sampleIndex: number) => ScriptTurn[])): Policy {
  return ({ sampleIndex, turn }) => {
    const list = typeof turns === "function" ? turns(sampleIndex) : turns;
    return turn < list.length ? list[turn] : "";
  };
}
