// The node-llama-cpp engine on tiny models built by the test: bad files rejected in-process, batched
// groups, stop strings, eos, multi-turn token bookkeeping, log-prob consistency and exact mode.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidModelError } from "../../worker/engine/errors.js";
import { gguf } from "../../worker/engine/gguf/writer.js";
import { loadLlamaEngine, type LlamaEngine } from "../../worker/engine/llama-engine.js";
import { TINY_SPECIAL_TOKENS, TINY_VOCAB_SIZE, writeTinyModel } from "../../worker/engine/tiny-model.js";
import type { GenerateOptions } from "../../worker/engine/types.js";
import { makeTempDir, maxAbsDiff, rewriteGguf, tensor, writeEosProneModel } from "./helpers.js";
import { referenceLogProbs } from "./reference-forward.js";

const tmp = makeTempDir("engine");
const file = (name: string) => path.join(tmp.dir, name);
const modelPath = file("tiny.gguf");
let engine: LlamaEngine;
let prompt: number[];

const greedy = (maxTokens: number, stopStrings: string[] = []): GenerateOptions => ({ maxTokens, stopStrings, sampling: { temperature: 0 } });

beforeAll(async () => {
  writeTinyModel({ out: modelPath, seed: 3 });
  engine = await loadLlamaEngine({ modelPath, threads: 1, contextSize: 256 });
  prompt = engine.tokenize(engine.formatChat([{ role: "user", content: "Who wrote Hamlet? Use <search> if needed." }]), { specialTokens: true });
});
afterAll(async () => {
  await engine?.dispose();
  tmp.cleanup();
});

/** Full next-token distribution after `prefix`, from logProbs of prefix + [v] for every token v. */
async function distributionAfter(e: LlamaEngine, prefix: number[]): Promise<number[]> {
  const out: number[] = [];
  for (let v = 0; v < TINY_VOCAB_SIZE; v++) out.push((await e.logProbs([...prefix, v])).at(-1)!);
  return out;
}

const argmax = (xs: number[]) => xs.reduce((best, x, i) => (x > xs[best] ? i : best), 0);

describe("loading", () => {
  it("rejects bad model files with InvalidModelError, and the process keeps working", async () => {
    const whole = fs.readFileSync(modelPath);
    const bad: Array<[string, string]> = [];
    const variant = (name: string, problem: string, edit: Parameters<typeof rewriteGguf>[2]) => {
      rewriteGguf(modelPath, file(name), edit);
      bad.push([file(name), problem]);
    };
    // The first two abort the whole process (GGML_ASSERT) if they reach llama.cpp.
    variant("no-ff.gguf", "missing llama.feed_forward_length", (g) => g.metadata.delete("llama.feed_forward_length"));
    variant("no-heads.gguf", "missing llama.attention.head_count", (g) => g.metadata.delete("llama.attention.head_count"));
    variant("shape.gguf", "has shape", (g) => {
      const t = tensor(g, "blk.0.ffn_gate.weight");
      t.dims = [128, 192];
      t.data = t.data.subarray(0, 128 * 192);
    });
    // Passes our checks but llama.cpp refuses it (a catchable error): reported the same way, with its log.
    variant("pre.gguf", "unknown pre-tokenizer type: 'no-such-pre'", (g) => g.metadata.set("tokenizer.ggml.pre", gguf.str("no-such-pre")));
    fs.writeFileSync(file("truncated.gguf"), whole.subarray(0, whole.length / 2));
    bad.push([file("truncated.gguf"), "truncated"]);
    fs.writeFileSync(file("text.gguf"), "#!/bin/sh\necho not a model\n");
    bad.push([file("text.gguf"), "not a GGUF file"]);

    for (const [badPath, problem] of bad) {
      const attempt = loadLlamaEngine({ modelPath: badPath, threads: 1 });
      await expect(attempt).rejects.toBeInstanceOf(InvalidModelError);
      await expect(attempt).rejects.toThrow(problem);
    }
    // Same process, after all of that: a good model still loads and generates.
    const again = await loadLlamaEngine({ modelPath, threads: 1, contextSize: 128 });
    const group = await again.openGroup(1);
    group.sequences[0].append(prompt);
    const turn = await group.sequences[0].generate(greedy(5));
    expect(turn.tokens.length).toBe(5);
    await group.dispose();
    await again.dispose();
  });

  it("reports model info and formats chats with the model's template", () => {
    expect(engine.info).toMatchObject({ architecture: "llama", vocabSize: TINY_VOCAB_SIZE, eosTokenId: 256, contextLength: 2048 });
    expect(engine.info.fileBytes).toBe(fs.statSync(modelPath).size);
    expect(engine.threads).toBe(1);
    expect(["cpu", "cuda", "vulkan", "metal"]).toContain(engine.backend);

    const text = engine.formatChat([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Q: <think>?" },
    ]);
    expect(text).toBe("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nQ: <think>?<|im_end|>\n<|im_start|>assistant\n");
    const tokens = engine.tokenize(text, { specialTokens: true });
    expect(tokens[0]).toBe(TINY_SPECIAL_TOKENS.imStart);
    expect(tokens.filter((t) => t === TINY_SPECIAL_TOKENS.imEnd).length).toBe(2);
    // Prompt tags stay plain bytes; without specialTokens the control tags are plain text too.
    expect(engine.detokenize(engine.tokenize("<search>é</search>"))).toBe("<search>é</search>");
    expect(engine.tokenize("<|im_end|>")).not.toContain(TINY_SPECIAL_TOKENS.imEnd);
  });

  it("falls back to node-llama-cpp's chat wrappers for a model without a template", async () => {
    const noTemplate = file("no-template.gguf");
    rewriteGguf(modelPath, noTemplate, (g) => g.metadata.delete("tokenizer.chat_template"));
    const e = await loadLlamaEngine({ modelPath: noTemplate, threads: 1, contextSize: 64 });
    const text = e.formatChat([{ role: "user", content: "Who wrote Hamlet?" }]);
    expect(text).toContain("Who wrote Hamlet?");
    expect(text.trimEnd().endsWith("Who wrote Hamlet?")).toBe(false); // an assistant opener follows
    await e.dispose();
  });

  it("turns flash attention off on the CPU (3-4x slower batched there), leaves GPUs to the library", async () => {
    expect(engine.flashAttention).toBe(engine.backend === "cpu" ? false : "auto");
    const on = await loadLlamaEngine({ modelPath, threads: 1, contextSize: 64, flashAttention: true });
    const exact = await loadLlamaEngine({ modelPath, threads: 1, contextSize: 64, flashAttention: true, exact: true });
    try {
      expect(on.flashAttention).toBe(true);
      expect(exact.flashAttention).toBe(false);
      const group = await on.openGroup(2, { tokensPerSequence: 64 });
      for (const s of group.sequences) s.append(prompt.slice(0, 8));
      const turns = await Promise.all(group.sequences.map((s) => s.generate(greedy(4))));
      expect(turns.every((t) => t.tokens.length > 0)).toBe(true);
      await group.dispose();
    } finally {
      await on.dispose();
      await exact.dispose();
    }
  });
});

describe("generation", () => {
  it("decodes a group of 8 sequences batched, each with its own random stream", async () => {
    const group = await engine.openGroup(8, { tokensPerSequence: 128 });
    for (const s of group.sequences) s.append(prompt);
    const turns = await Promise.all(
      group.sequences.map((s) => s.generate({ maxTokens: 24, stopStrings: ["</search>"], sampling: { temperature: 1 } })),
    );
    for (const [i, turn] of turns.entries()) {
      expect(turn.tokens.length).toBeGreaterThan(0);
      expect(["stop", "eos", "length"]).toContain(turn.finishReason);
      if (turn.finishReason === "length") expect(turn.tokens.length).toBe(24);
      expect(turn.text).toBe(engine.detokenize(turn.tokens));
      expect(group.sequences[i].length).toBe(prompt.length + turn.tokens.length);
    }
    // Unseeded sampling must not give every sequence the same stream.
    expect(new Set(turns.map((t) => t.tokens.join(","))).size).toBeGreaterThan(4);
    await group.dispose();
  });

  it("reproduces samples for a seed and differs for another seed", async () => {
    const sample = async (seed: number) => {
      const group = await engine.openGroup(3, { tokensPerSequence: 96 });
      for (const s of group.sequences) s.append(prompt);
      const turns = await Promise.all(group.sequences.map((s) => s.generate({ maxTokens: 16, stopStrings: [], sampling: { temperature: 1, seed } })));
      await group.dispose();
      return turns.map((t) => t.tokens);
    };
    const a = await sample(42);
    expect(await sample(42)).toEqual(a);
    expect(new Set(a.map((t) => t.join(","))).size).toBe(3); // one seed, still one stream per sequence
    expect(await sample(43)).not.toEqual(a);
  });

  it("stops right after the first stop string, counting the token that completes it", async () => {
    const group = await engine.openGroup(2, { tokensPerSequence: 128 });
    const [free, stopped] = group.sequences;
    free.append(prompt);
    const full = await free.generate(greedy(48));
    // Pick a two-token stop string from the greedy text that decodes to plain ASCII.
    const isAscii = (s: string) => /^[\x21-\x7e]+$/.test(s);
    let stop = "";
    for (let j = 1; j + 1 < full.tokens.length && !stop; j++) {
      const piece = engine.detokenize(full.tokens.slice(j, j + 2));
      if (isAscii(piece)) stop = piece;
    }
    if (!stop) stop = engine.detokenize(full.tokens.slice(2, 3));
    let cut = 1;
    while (!engine.detokenize(full.tokens.slice(0, cut)).includes(stop)) cut++;

    stopped.append(prompt);
    const turn = await stopped.generate(greedy(48, ["never-appears", stop]));
    expect(turn.finishReason).toBe("stop");
    expect(turn.stopString).toBe(stop);
    expect(turn.tokens).toEqual(full.tokens.slice(0, cut));
    expect(turn.text).toContain(stop);
    expect(engine.detokenize(turn.tokens.slice(0, -1))).not.toContain(stop);
    await group.dispose();
  });

  it("keeps the last sampled token for the next turn, before appended tokens", async () => {
    const group = await engine.openGroup(2, { tokensPerSequence: 160 });
    const [multi, fresh] = group.sequences;
    multi.append(prompt);
    const first = await multi.generate(greedy(6));
    const tool = engine.tokenize("\n<information>Doc 1(Title: Hamlet) Shakespeare</information>\n");
    multi.append(tool);
    expect(multi.length).toBe(prompt.length + first.tokens.length + tool.length);
    const second = await multi.generate(greedy(6));

    // A fresh sequence fed the whole history in one go must continue identically.
    fresh.append([...prompt, ...first.tokens, ...tool]);
    const reference = await fresh.generate(greedy(6));
    expect(second.tokens).toEqual(reference.tokens);
    await group.dispose();

    // logProbs agrees with greedy decoding: the chosen tokens are the argmax, and the distribution sums to 1.
    for (const prefix of [prompt, [...prompt, ...first.tokens, ...tool]]) {
      const dist = await distributionAfter(engine, prefix);
      expect(argmax(dist)).toBe(prefix === prompt ? first.tokens[0] : second.tokens[0]);
      const total = dist.reduce((s, lp) => s + Math.exp(lp), 0);
      expect(Math.abs(total - 1)).toBeLessThan(1e-4);
    }
    const all = [...prompt, ...first.tokens, ...tool, ...second.tokens];
    const lp = await engine.logProbs(all);
    expect(lp.length).toBe(all.length - 1);
    for (const v of lp) expect(v).toBeLessThanOrEqual(0);

    // `from` scores only the tail, with the same values, whatever the previous call kept or skipped.
    const from = prompt.length;
    const other = [...all.slice(0, -1), (all.at(-1)! + 1) % TINY_VOCAB_SIZE];
    expect(await engine.logProbs(all, { from })).toEqual(lp.slice(from));
    expect((await engine.logProbs(other, { from: from + 2 })).slice(0, -1)).toEqual(lp.slice(from + 2, -1));
    // The last position is evaluated again on its own here: a batch of one may round differently.
    const again = await engine.logProbs(all);
    expect(again.slice(0, -1)).toEqual(lp.slice(0, -1));
    expect(Math.abs(again.at(-1)! - lp.at(-1)!)).toBeLessThan(1e-4);
    expect(await engine.logProbs(all, { from: all.length - 1 })).toEqual([]);
    // Positions skipped by a `from` call are scored when a later call asks for them.
    const reversed = [...all].reverse();
    const tail = await engine.logProbs(reversed, { from });
    const whole = await engine.logProbs(reversed);
    expect(whole).toHaveLength(all.length - 1);
    expect(Math.max(...tail.map((v, i) => Math.abs(v - whole[from + i])))).toBeLessThan(1e-4);
    await expect(engine.logProbs(all, { from: -1 })).rejects.toThrow(RangeError);
  });

  it("never shifts the context: a full sequence ends with 'length'", async () => {
    // Greedy decoding of this prompt yields no eos in its first tokens (see the loading test).
    const group = await engine.openGroup(1, { tokensPerSequence: prompt.length + 4 });
    const [s] = group.sequences;
    s.append(prompt);
    const turn = await s.generate(greedy(100));
    expect(turn.finishReason).toBe("length");
    expect(turn.tokens.length).toBe(4);
    expect(s.length).toBe(prompt.length + 4);
    const after = await s.generate(greedy(5));
    expect(after).toEqual({ tokens: [], text: "", finishReason: "length" });
    await group.dispose();
  });

  it("honours an abort signal", async () => {
    const group = await engine.openGroup(1, { tokensPerSequence: 128 });
    group.sequences[0].append(prompt);
    const controller = new AbortController();
    controller.abort(new Error("cancelled by test"));
    await expect(group.sequences[0].generate({ ...greedy(10), signal: controller.signal })).rejects.toThrow("cancelled by test");
    await group.dispose();
  });

  it("ends turns at end-of-sequence and includes the eos token", async () => {
    const eosPath = file("eos-prone.gguf");
    writeEosProneModel(modelPath, eosPath, TINY_SPECIAL_TOKENS.endOfText, 0.6);
    const eosEngine = await loadLlamaEngine({ modelPath: eosPath, threads: 1, contextSize: 128 });
    const group = await eosEngine.openGroup(4);
    for (const s of group.sequences) s.append(prompt);
    const turns = await Promise.all(
      group.sequences.map((s) => s.generate({ maxTokens: 60, stopStrings: [], sampling: { temperature: 1, seed: 5 } })),
    );
    for (const turn of turns) {
      expect(turn.finishReason).toBe("eos");
      expect(turn.tokens.at(-1)).toBe(TINY_SPECIAL_TOKENS.endOfText);
      expect(turn.text).not.toContain("<|endoftext|>");
    }
    await group.dispose();
    await eosEngine.dispose();
  });
});

describe("exactness", () => {
  it("exact mode matches a float64 reference forward pass", async () => {
    const tokens = [...prompt.slice(0, 30), 101, 32, 60];
    const reference = referenceLogProbs(modelPath, tokens);
    const exact = await loadLlamaEngine({ modelPath, threads: 1, exact: true, contextSize: 64 });
    const exactGap = maxAbsDiff(await exact.logProbs(tokens), reference);
    await exact.dispose();
    const defaultGap = maxAbsDiff(await engine.logProbs(tokens), reference);
    expect(exactGap).toBeLessThan(1e-4);
    expect(defaultGap).toBeLessThan(5e-2);
    expect(exactGap).toBeLessThan(defaultGap);
  });

  it("loads tied-embedding and F16 tiny models", async () => {
    const tied = file("tied-f16.gguf");
    writeTinyModel({ out: tied, tiedEmbeddings: true, weightType: "f16", layers: 1, seed: 9 });
    const e = await loadLlamaEngine({ modelPath: tied, threads: 1, exact: true, contextSize: 64 });
    const tokens = prompt.slice(0, 20);
    // llama.cpp multiplies F16 weights with F16-rounded activations: ~1e-2 from a float64 reference.
    expect(maxAbsDiff(await e.logProbs(tokens), referenceLogProbs(tied, tokens))).toBeLessThan(5e-2);
    await e.dispose();
  });
});
