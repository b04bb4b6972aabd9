// A user's model has a real vocabulary: Qwen's 151,669-token BPE (Qwen2.5, Qwen3) or Llama 3's 128,256,
// where `</search>` is several tokens, the chat template has special tokens, and the output layer has
// one row per token. This test puts the ICRL machinery through such a vocabulary end to end, on models
// `icrl model build` writes with the real tokenizers (tiny shape, random F32 weights, so llama.cpp and
// PyTorch compute with the same numbers):
// - prompts go through the model's own chat template (Qwen3 with thinking on and off, Llama 3 with its
//   header tokens and a single BOS); Qwen3's rollouts, masks, agreement and steps below run with thinking
//   off, and its whole ICRL run in real-tokenizer-learning.test.ts with thinking on (the default);
// - the tool tags span several tokens and are found in the decoded text;
// - the loss mask falls on exact token boundaries: every run of sampled tokens decodes to exactly the
//   model's segments and every run of inserted tokens to exactly the tool results and notices;
// - the learner's log-probs agree with the engine's within 1e-3 over the full vocabulary, before and
//   after a GRPO step on those rollouts, once the adapter is exported and hot-loaded.
// Learning on the real vocabulary is test/training/real-tokenizer-learning.test.ts.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatTemplateArgs } from "../../contracts/index.js";
import { buildModel, type BuildTokenizer } from "../../worker/engine/files.js";
import { loadLlamaEngine, type LlamaEngine } from "../../worker/engine/index.js";
import { defaultDemonstrationsFor, QA_SEARCH_TEMPLATE, renderPrompt, runRolloutGroup } from "../../worker/icrl/index.js";
import type { RolloutResult } from "../../worker/icrl/index.js";
import { LearnerDriver, type TrainingSample } from "../../worker/learner/index.js";
import { buildTools, type ToolSet } from "../../worker/tools/index.js";
import { maxAbsDiff } from "../learner/helpers.js";
import { maskRuns } from "../support/mask-runs.js";

const TOLERANCE = 1e-3;
const CORPUS = path.resolve(import.meta.dirname, "../fixtures/data/wiki_passages/searchr1_wiki18_example_corpus.jsonl");
const QUESTION = { id: "q1", question: "Who wrote the novel Moby-Dick?" };

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "icrl-real-tokenizer-"));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Family {
  tokenizer: BuildTokenizer;
  vocabSize: number;
  /** How the rendered prompt must start and end (the template's own special tokens). */
  promptStart: string;
  promptEnd: string;
  /** Token ids that must appear exactly once in a prompt (BOS) or at all (the role markers). */
  once: number[];
  /** The run's model.chatTemplateArgs for the rollouts that are trained, and how those prompts must end. */
  rollouts: { chatTemplateArgs?: ChatTemplateArgs; promptEnd: string };
}

const FAMILIES: Family[] = [
  {
    tokenizer: "qwen3",
    vocabSize: 151_669,
    promptStart: "<|im_start|>user\n",
    promptEnd: "<|im_start|>assistant\n",
    once: [],
    rollouts: { chatTemplateArgs: { enable_thinking: false }, promptEnd: "<|im_start|>assistant\n<think>\n\n</think>\n\n" },
  },
  {
    tokenizer: "llama3",
    vocabSize: 128_256,
    promptStart: "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n",
    promptEnd: "<|start_header_id|>assistant<|end_header_id|>\n\n",
    once: [128_000],
    rollouts: { promptEnd: "<|start_header_id|>assistant<|end_header_id|>\n\n" },
  },
];

describe.each(FAMILIES)("$tokenizer vocabulary", (family) => {
  let model: string;
  let engine: LlamaEngine;
  let tools: ToolSet;
  let learner: LearnerDriver;

  beforeAll(async () => {
    model = path.join(dir, `${family.tokenizer}.gguf`);
    const built = buildModel({ out: model, shape: "tiny", tokenizer: family.tokenizer, type: "f32", seed: 5 });
    expect(built.vocabSize).toBe(family.vocabSize);
    engine = await loadLlamaEngine({ modelPath: model, exact: true, threads: 2, gpu: false, contextSize: 4096 });
    tools = await buildTools(
      { search: { kind: "local", corpus: CORPUS, topK: 1, maxTokens: 64 } },
      { countTokens: (s) => engine.tokenize(s).length },
    );
    learner = LearnerDriver.start();
    await learner.init({ model_path: model, lora: { rank: 8, alpha: 16 }, optim: { lr: 2e-2 }, device: "cpu", threads: 2, seed: 1 });
  }, 300_000);

  afterAll(async () => {
    await learner?.shutdown();
    await tools?.close();
    await engine?.dispose();
  });

  it("renders the 3-shot prompt through the model's own chat template, its special tokens one token each", () => {
    const prompt = renderPrompt(engine, {
      question: QUESTION.question,
      questionId: QUESTION.id,
      shots: 3,
      template: QA_SEARCH_TEMPLATE,
      demonstrations: defaultDemonstrationsFor("qa"),
    });
    expect(prompt.text.startsWith(family.promptStart), prompt.text.slice(0, 120)).toBe(true);
    expect(prompt.text.endsWith(family.promptEnd), prompt.text.slice(-120)).toBe(true);
    // The role markers are single special tokens, not their spelling in pieces.
    const marker = engine.tokenize(family.promptEnd, { specialTokens: true });
    expect(marker.length).toBeLessThanOrEqual(4);
    expect(prompt.tokens.slice(-marker.length)).toEqual(marker);
    for (const id of family.once) expect(prompt.tokens.filter((t) => t === id)).toHaveLength(1);
    // A 3-shot prompt is hundreds of BPE tokens, several times fewer than its bytes.
    expect(prompt.tokens.length).toBeLessThan(Buffer.byteLength(prompt.text) / 2.5);
    // Tool tags are several tokens in these vocabularies: they are found in decoded text.
    expect(engine.tokenize("</search>").length).toBeGreaterThan(1);
    expect(engine.tokenize("<answer>").length).toBeGreaterThan(1);
  });

  it("puts the loss mask on exact token boundaries and agrees with the learner within 1e-3 before and after a step", {
    timeout: 600_000,
  }, async () => {
    // Zero-shot: every position of these sequences is scored over the whole vocabulary, twice.
    const prompt = renderPrompt(engine, {
      question: QUESTION.question,
      questionId: QUESTION.id,
      shots: 0,
      template: QA_SEARCH_TEMPLATE,
      chatTemplateArgs: family.rollouts.chatTemplateArgs,
    });
    expect(prompt.text.endsWith(family.rollouts.promptEnd), prompt.text.slice(-80)).toBe(true);
    // A random model never spells </search>: with no tool turns the loop inserts its tools-off notice
    // first, so every rollout holds inserted text followed by sampled text. Sampled tool calls and the
    // tool results after them are checked on a trained model (real-tokenizer-learning.test.ts).
    const limits = { maxToolTurns: 0, maxTokensPerTurn: 24, maxResponseTokens: 160 };
    const group = await engine.openGroup(4, { tokensPerSequence: prompt.tokens.length + limits.maxResponseTokens + 8 });
    let rollouts: RolloutResult[];
    try {
      ({ rollouts } = await runRolloutGroup(engine, group, prompt.tokens, {
        tools: [tools.get("search")!],
        messages: QA_SEARCH_TEMPLATE,
        ...limits,
        sampling: { temperature: 1, seed: 7 },
      }));
    } finally {
      await group.dispose();
    }
    expect(rollouts).toHaveLength(4);
    for (const r of rollouts) {
      expect(r.finishReason).not.toBe("error");
      expect(r.responseIds).toHaveLength(r.lossMask.length);
      // Sampled and inserted runs decode to exactly the segments the loop recorded for them.
      const runs = maskRuns(r, (ids) => engine.detokenize(ids));
      expect(runs.tokens).toEqual(runs.segments);
    }
    for (const r of rollouts) expect(maskRuns(r, (ids) => engine.detokenize(ids)).tokens.map(([mask]) => mask)).toEqual([0, 1]);

    const sequences = rollouts.map((r) => [...prompt.tokens, ...r.responseIds]);
    // Compared on the sampled tokens (what training moves), from the position before the first: the
    // engine hands each scored position's 150k logits over as a JS Map, ~0.1 s a position here.
    const inserted = rollouts[0].lossMask.indexOf(1);
    for (const r of rollouts) expect(r.lossMask.indexOf(1)).toBe(inserted);
    const from = prompt.tokens.length + inserted - 1;
    const engineLogProbs = (s: number[]) => engine.logProbs(s, { from });
    const learnerLogProbs = async () => (await learner.logprobs({ sequences })).map((lp) => lp.slice(from));
    const engineBase: number[][] = [];
    for (const s of sequences) engineBase.push(await engineLogProbs(s));
    const learnerBase = await learnerLogProbs();
    for (const i of sequences.keys()) expect(maxAbsDiff(learnerBase[i], engineBase[i]), `sequence ${i}, base`).toBeLessThan(TOLERANCE);

    const samples: TrainingSample[] = rollouts.map((r, i) => ({
      tokens: sequences[i],
      mask: [...prompt.tokens.map(() => 0), ...r.lossMask],
      advantage: i % 2 === 0 ? 1 : -1,
    }));
    for (let i = 0; i < 3; i++) await learner.step(samples);
    const learnerTrained = await learnerLogProbs();
    expect(maxAbsDiff(learnerTrained[0], learnerBase[0]), "training must move the policy").toBeGreaterThan(0.01);

    const adapter = await learner.exportAdapter(path.join(dir, `${family.tokenizer}-adapter.gguf`));
    await engine.setAdapter(adapter.path);
    try {
      for (const [i, s] of sequences.entries()) {
        expect(maxAbsDiff(learnerTrained[i], await engineLogProbs(s)), `sequence ${i}, with adapter`).toBeLessThan(TOLERANCE);
      }
    } finally {
      await engine.setAdapter(null);
    }
  });
});

describe("Qwen3 thinking", () => {
  it("is on by default and off with chatTemplateArgs { enable_thinking: false }, as Qwen3's template defines", async () => {
    const model = path.join(dir, "qwen3-thinking.gguf");
    buildModel({ out: model, shape: "tiny", tokenizer: "qwen3", seed: 6 });
    const engine = await loadLlamaEngine({ modelPath: model, threads: 1, gpu: false, contextSize: 1024 });
    try {
      const request = { question: QUESTION.question, questionId: QUESTION.id, shots: 0, template: QA_SEARCH_TEMPLATE };
      const on = renderPrompt(engine, request);
      const off = renderPrompt(engine, { ...request, chatTemplateArgs: { enable_thinking: false } });
      expect(on.text.endsWith("<|im_start|>assistant\n")).toBe(true);
      expect(off.text).toBe(`${on.text}<think>\n\n</think>\n\n`);
      // <think> and </think> are added tokens of Qwen3's vocabulary: one token each.
      const think = engine.tokenize("<think>", { specialTokens: true });
      expect(think).toHaveLength(1);
      expect(off.tokens.slice(on.tokens.length)).toContain(think[0]);
      expect(() => renderPrompt(engine, { ...request, chatTemplateArgs: { add_generation_prompt: false } })).toThrow(/add_generation_prompt/);
    } finally {
      await engine.dispose();
    }
  });
});
