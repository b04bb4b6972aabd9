// A Hugging Face byte-level BPE tokenizer (tokenizer.json + tokenizer_config.json) as GGUF vocabulary,
// following llama.cpp's convert_hf_to_gguf.py (TextModel.get_vocab_base and _set_vocab_gpt2):
// - every id below the tokenizer's size gets its token text; ids it lacks are "[PAD<id>]", UNUSED;
// - an added token is CONTROL when it is marked special or looks special ("<|...|>"), USER_DEFINED
//   otherwise (e.g. Qwen's <think>, <tool_call>): llama.cpp matches USER_DEFINED tokens in any text and
//   CONTROL tokens when parsing specials, which is how the Hugging Face tokenizer treats added tokens;
// - the model's other tokens are NORMAL; merges are "a b" strings.
// The normalisation step of the converter (decode(encode(token)) for unnormalised added tokens) leaves
// these tokenizers' added tokens unchanged: all are plain ASCII.
import fs from "node:fs";
import { createRequire } from "node:module";
import { TokenType } from "./vocabulary.js";

interface AddedToken {
  id: number;
  content: string;
  special: boolean;
}

export interface HfTokenizerFiles {
  tokenizer: { added_tokens: AddedToken[]; model: { type: string; vocab: Record<string, number>; merges: Array<string | [string, string]> } };
  config: { chat_template?: string };
}

const require = createRequire(import.meta.url);

/** Read a tokenizer package's data files (JSON only: the package's JS bundle is never loaded). */
export function readTokenizerPackage(name: string): HfTokenizerFiles {
  const read = (file: string) => JSON.parse(fs.readFileSync(require.resolve(`${name}/models/${file}`), "utf8"));
  return { tokenizer: read("tokenizer.json"), config: read("tokenizer_config.json") };
}

/** convert_hf_to_gguf.py's does_token_look_special, for the forms these tokenizers use. */
function looksSpecial(text: string): boolean {
  return (
    ["<pad>", "<mask>", "<2mass>", "[@BOS@]"].includes(text) ||
    (text.startsWith("<|") && text.endsWith("|>")) ||
    (text.startsWith("<｜") && text.endsWith("｜>")) ||
    (text.startsWith("<unused") && text.endsWith(">"))
  );
}

export interface HfVocabularyOptions {
  /** Leave out added tokens from this id on (Qwen2.5 lacks the four Qwen3 added). */
  addedTokensBelow?: number;
}

export function hfBpeVocabulary(
  files: HfTokenizerFiles,
  options: HfVocabularyOptions = {},
): { tokens: string[]; tokenTypes: number[]; merges: string[] } {
  const { model, added_tokens } = files.tokenizer;
  if (model.type !== "BPE") throw new Error(`expected a BPE tokenizer, got ${model.type}`);
  const limit = options.addedTokensBelow ?? Number.POSITIVE_INFINITY;
  const added = added_tokens.filter((t) => t.id < limit);
  let size = 0;
  for (const text in model.vocab) size = Math.max(size, model.vocab[text] + 1);
  for (const t of added) size = Math.max(size, t.id + 1);
  const tokens: string[] = new Array(size);
  const tokenTypes: number[] = new Array(size).fill(TokenType.UNUSED);
  for (const text in model.vocab) {
    const id = model.vocab[text];
    tokens[id] = text;
    tokenTypes[id] = TokenType.NORMAL;
  }
  for (const t of added) {
    tokens[t.id] = t.content;
    tokenTypes[t.id] = t.special || looksSpecial(t.content) ? TokenType.CONTROL : TokenType.USER_DEFINED;
  }
  for (let id = 0; id < size; id++) if (tokens[id] === undefined) tokens[id] = `[PAD${id}]`;
  const merges = model.merges.map((m) => (typeof m === "string" ? m : `${m[0]} ${m[1]}`));
  return { tokens, tokenTypes, merges };
}

/** Id of a token by its text, or an error naming what is missing. */
export function tokenId(vocab: { tokens: string[] }, text: string): number {
  const id = vocab.tokens.indexOf(text);
  if (id < 0) throw new Error(`the tokenizer has no ${text} token`);
  return id;
}
