// Files from `icrl model build` load and run in llama.cpp through the engine: for each tokenizer (with
// the tiny shape, one storage type each), the engine reads the right architecture and special tokens,
// renders the model's chat template (worker/engine/chat-format.ts), parses the template's special
// tokens, scores and generates.
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { validateModelFile } from "../../worker/engine/gguf/validate.js";
import { loadLlamaEngine } from "../../worker/engine/llama-engine.js";
import { buildModel, type BuildTokenizer, type BuildWeightType } from "../../worker/engine/model-build/build-model.js";
import { makeTempDir } from "./helpers.js";

const tmp = makeTempDir("model-build-llama");
afterAll(() => tmp.cleanup());

const CASES: {
  tokenizer: BuildTokenizer;
  type: BuildWeightType;
  architecture: string;
  vocabSize: number;
  eos: number;
  /** The chat rendering of one user message, as the model's own template writes it. */
  chat: string;
  /** Ids of the template's special tokens at the start of the rendering. */
  firstTokens: number[];
}[] = [
  {
    tokenizer: "qwen3",
    type: "f16",
    architecture: "qwen3",
    vocabSize: 151_669,
    eos: 151_645,
    chat: "<|im_start|>user\nWho wrote Hamlet? <think>?<|im_end|>\n<|im_start|>assistant\n",
    firstTokens: [151_644, 872, 198],
  },
  {
    tokenizer: "qwen2.5",
    type: "bf16",
    architecture: "qwen2",
    vocabSize: 151_665,
    eos: 151_645,
    chat: "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nWho wrote Hamlet? <think>?<|im_end|>\n<|im_start|>assistant\n",
    firstTokens: [151_644, 8948, 198],
  },
  {
    tokenizer: "llama3",
    type: "q8_0",
    architecture: "llama",
    vocabSize: 128_256,
    eos: 128_009,
    chat: "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWho wrote Hamlet? <think>?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
    firstTokens: [128_000, 128_006, 882, 128_007],
  },
  {
    tokenizer: "byte",
    type: "f16",
    architecture: "llama",
    vocabSize: 259,
    eos: 256,
    chat: "<|im_start|>user\nWho wrote Hamlet? <think>?<|im_end|>\n<|im_start|>assistant\n",
    firstTokens: [257, 117, 115],
  },
];

describe.each(CASES)("a built $tokenizer model ($type)", ({ tokenizer, type, architecture, vocabSize, eos, chat, firstTokens }) => {
  it("validates, loads, renders its chat template, tokenizes its specials, scores and generates", async () => {
    const out = path.join(tmp.dir, `${tokenizer}-${type}.gguf`);
    buildModel({ shape: "tiny", tokenizer, type, seed: 2, out });
    expect(validateModelFile(out)).toMatchObject({ architecture, vocabSize, blockCount: 2, embeddingLength: 128 });

    const engine = await loadLlamaEngine({ modelPath: out, threads: 1, contextSize: 256 });
    try {
      expect(engine.info).toMatchObject({ architecture, vocabSize, eosTokenId: eos });
      const text = engine.formatChat([{ role: "user", content: "Who wrote Hamlet? <think>?" }]);
      expect(text).toBe(chat);
      const tokens = engine.tokenize(text, { specialTokens: true });
      expect(tokens.slice(0, firstTokens.length)).toEqual(firstTokens);
      // Control tokens drop out of detokenized text; <think> is an added (user-defined) token of Qwen3 only.
      expect(engine.detokenize(tokens)).toBe(chat.replace(/<\|[a-z_]+\|>/g, ""));
      expect(tokens.includes(151_667)).toBe(tokenizer === "qwen3");

      const logProbs = await engine.logProbs(tokens.slice(0, 12));
      expect(logProbs).toHaveLength(11);
      expect(logProbs.every((p) => Number.isFinite(p) && p < 0)).toBe(true);

      const group = await engine.openGroup(1, { tokensPerSequence: 128 });
      group.sequences[0].append(tokens);
      const turn = await group.sequences[0].generate({ maxTokens: 4, stopStrings: [], sampling: { temperature: 0 } });
      expect(turn.tokens.length).toBeGreaterThan(0);
      expect(turn.tokens.every((t) => t >= 0 && t < vocabSize)).toBe(true);
      await group.dispose();
    } finally {
      await engine.dispose();
    }
  });
});
