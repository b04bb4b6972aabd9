// A group's prompt evaluated once and copied to its other sequences (worker/engine/llama-group.ts)
// through node-llama-cpp's internal sequence-state copy (worker/engine/sequence-state-copy.ts). The
// first block checks the library's internal method directly, so an upgrade that drops or changes it
// fails here, by name, rather than as odd rollouts; the second checks that a group that prefills once
// samples exactly what a group whose sequences each evaluate the prompt samples.
import path from "node:path";
import type { LlamaContext, LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadLlamaEngine, type LlamaEngine } from "../../worker/engine/llama-engine.js";
import { loadLlama } from "../../worker/engine/llama-loader.js";
import { canCopySequenceState, copySequenceState } from "../../worker/engine/sequence-state-copy.js";
import { writeTinyModel } from "../../worker/engine/tiny-model.js";
import type { EngineGroup, GenerateOptions } from "../../worker/engine/types.js";
import { makeTempDir, maxAbsDiff } from "./helpers.js";

const tmp = makeTempDir("shared-prefill");
const modelPath = path.join(tmp.dir, "tiny.gguf");
const PROMPT = "<|im_start|>user\nWho wrote Hamlet? Think, then search.<|im_end|>\n<|im_start|>assistant\n";
let prompt: number[];

beforeAll(() => {
  // Four layers, so a wrong or partial KV copy shows in the logits of every later position.
  writeTinyModel({ out: modelPath, seed: 11, layers: 4 });
});
afterAll(() => tmp.cleanup());

describe("node-llama-cpp's internal sequence-state copy", () => {
  let model: LlamaModel;
  let context: LlamaContext;

  beforeAll(async () => {
    const llama = await loadLlama(false);
    model = await llama.loadModel({ modelPath, gpuLayers: 0 });
    // F32 K/V: the copied cache is then bit for bit what the sequence would have computed itself.
    context = await model.createContext({
      sequences: 3,
      contextSize: 256,
      threads: 1,
      flashAttention: false,
      experimentalKvCacheKeyType: "F32",
      experimentalKvCacheValueType: "F32",
    });
    prompt = Array.from(model.tokenize(PROMPT, true));
  });
  afterAll(async () => {
    await context?.dispose();
    await model?.dispose();
  });

  /** Evaluate `tokens` and return the logits after the last one, indexed by token id. */
  async function logitsAfter(sequence: LlamaContextSequence, tokens: number[]): Promise<number[]> {
    let logits: number[] | undefined;
    await sequence.controlledEvaluate(
      tokens.map((t, i) => (i === tokens.length - 1 ? [t as Token, { generateNext: { logits: true } }] : (t as Token))),
      {
        onTokenResult: (_, output) => {
          // node-llama-cpp hands them as a Map from token to logit, sorted by logit.
          if (output.next.logits) logits = [...output.next.logits].sort(([a], [b]) => a - b).map(([, logit]) => logit);
        },
      },
    );
    if (!logits) throw new Error("no logits");
    return logits;
  }

  it("still exists with the signature the engine calls", () => {
    const sequence = context.getSequence();
    expect(canCopySequenceState(sequence)).toBe(true);
    expect((sequence as unknown as { _copyStateFromOtherSequence: (...args: unknown[]) => unknown })._copyStateFromOtherSequence.length).toBe(2);
    void sequence.dispose();
  });

  it("copies the KV cache and the token bookkeeping: the copy continues exactly like the original", async () => {
    const [source, copy, self] = [context.getSequence(), context.getSequence(), context.getSequence()];
    try {
      const prefix = prompt.slice(0, -1);
      await source.evaluateWithoutGeneratingNewTokens(prefix as Token[]);
      await copySequenceState(copy, source, prefix.length);
      expect(copy.nextTokenIndex).toBe(prefix.length);
      expect(copy.contextTokens).toEqual(prefix);
      // The source is untouched.
      expect(source.nextTokenIndex).toBe(prefix.length);

      const copied = await logitsAfter(copy, [prompt.at(-1)!]);
      const evaluatedItself = await logitsAfter(self, prompt);
      expect(copied.length).toBe(evaluatedItself.length);
      expect(maxAbsDiff(copied, evaluatedItself)).toBeLessThan(1e-5);
      // Not a trivial match: the next token's logits are not the same everywhere.
      expect(
        maxAbsDiff(
          copied,
          copied.map(() => copied[0]),
        ),
      ).toBeGreaterThan(0.1);

      // Sampling with one seed from both continues identically, token after token.
      const sample = async (sequence: LlamaContextSequence) => {
        const out: number[] = [];
        for await (const t of sequence.evaluate([7 as Token], { temperature: 1, seed: 1234, yieldEogToken: true })) {
          out.push(t);
          if (out.length === 24) break;
        }
        return out;
      };
      expect(await sample(copy)).toEqual(await sample(self));
    } finally {
      await Promise.all([source.dispose(), copy.dispose(), self.dispose()]);
    }
  });

  it("copies only up to the index asked for", async () => {
    const [source, copy] = [context.getSequence(), context.getSequence()];
    try {
      await source.evaluateWithoutGeneratingNewTokens(prompt as Token[]);
      await copySequenceState(copy, source, 5);
      expect(copy.nextTokenIndex).toBe(5);
      expect(copy.contextTokens).toEqual(prompt.slice(0, 5));
      await expect(copySequenceState(copy, source, prompt.length + 1)).rejects.toThrow(RangeError);
    } finally {
      await Promise.all([source.dispose(), copy.dispose()]);
    }
  });
});

describe("a group that prefills its prompt once", () => {
  let shared: LlamaEngine;
  let separate: LlamaEngine;

  beforeAll(async () => {
    shared = await loadLlamaEngine({ modelPath, threads: 1, exact: true });
    separate = await loadLlamaEngine({ modelPath, threads: 1, exact: true, sharedPrefill: false });
    prompt = shared.tokenize(PROMPT, { specialTokens: true });
    toolText = shared.tokenize("\n<information>Doc 1(Title: Hamlet) Shakespeare</information>\n");
  });
  afterAll(async () => {
    await shared?.dispose();
    await separate?.dispose();
  });

  const turn = (seed: number): GenerateOptions => ({ maxTokens: 20, stopStrings: [], sampling: { temperature: 1, seed } });
  let toolText: number[];

  /** Two turns on every sequence of a fresh group of `size`, a tool result appended between them. */
  async function rollouts(engine: LlamaEngine, size: number): Promise<{ turns: number[][]; lengths: number[]; evaluated: number | undefined }> {
    const group: EngineGroup = await engine.openGroup(size, { tokensPerSequence: 160 });
    try {
      group.appendShared(prompt);
      expect(group.sequences.map((s) => s.length)).toEqual(group.sequences.map(() => prompt.length));
      const turns = await Promise.all(
        group.sequences.map(async (s) => {
          const first = await s.generate(turn(5));
          s.append(toolText);
          const second = await s.generate(turn(6));
          return [...first.tokens, -1, ...second.tokens];
        }),
      );
      return { turns, lengths: group.sequences.map((s) => s.length), evaluated: group.promptTokensEvaluated };
    } finally {
      await group.dispose();
    }
  }

  it("samples what sequences that each evaluate the prompt sample, and evaluates it once", async () => {
    const size = 4;
    const once = await rollouts(shared, size);
    const each = await rollouts(separate, size);
    expect(once.turns).toEqual(each.turns);
    expect(once.lengths).toEqual(each.lengths);
    // Sequences still differ from one another (one RNG stream each).
    expect(new Set(once.turns.map((t) => t.join(","))).size).toBe(size);
    // Once: the prompt but its last token on sequence 0, then the last token on every sequence.
    expect(once.evaluated).toBe(prompt.length - 1 + size);
    expect(each.evaluated).toBe(prompt.length * size);
  });

  it("a group of one evaluates the prompt as before", async () => {
    const one = await rollouts(shared, 1);
    expect(one.turns).toEqual((await rollouts(separate, 1)).turns);
    expect(one.evaluated).toBe(prompt.length);
  });
});
