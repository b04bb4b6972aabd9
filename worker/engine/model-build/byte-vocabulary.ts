// The byte-level vocabulary of the tiny test models: every byte is one token, so any text round-trips
// and a model small enough for CI still reads and writes everything a real one does. Shared by
// `icrl model tiny` and `icrl model build --tokenizer byte`.
//
// tokenizer.ggml.model "gpt2" with tokenizer.ggml.pre "qwen2" (a lossless pre-tokenizer), token id b
// (0..255) = byte b written as its GPT-2 byte character, and an EMPTY merges list. Then three control
// tokens (type 3: parsed as specials in prompts, end generation): 256 <|endoftext|> (bos/eos/padding),
// 257 <|im_start|>, 258 <|im_end|>. Prompt tags such as <think> or <search> are plain bytes.
import { byteToUnicode } from "../byte-vocab.js";
import { TokenType, type Vocabulary } from "./vocabulary.js";

export const BYTE_SPECIAL_TOKENS = { endOfText: 256, imStart: 257, imEnd: 258 } as const;
export const BYTE_VOCAB_SIZE = 259;

/** ChatML, so chat formatting takes the same path as for a real Qwen model. */
export const CHATML_TEMPLATE =
  "{%- for message in messages -%}" +
  "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}" +
  "{%- endfor -%}" +
  "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}";

export function byteVocabulary(): Vocabulary {
  const tokens = [...byteToUnicode(), "<|endoftext|>", "<|im_start|>", "<|im_end|>"];
  return {
    tokens,
    tokenTypes: tokens.map((_, id) => (id >= 256 ? TokenType.CONTROL : TokenType.NORMAL)),
    merges: [],
    pre: "qwen2",
    bosId: BYTE_SPECIAL_TOKENS.endOfText,
    eosId: BYTE_SPECIAL_TOKENS.endOfText,
    paddingId: BYTE_SPECIAL_TOKENS.endOfText,
    addBos: false,
    chatTemplate: CHATML_TEMPLATE,
    architecture: "llama",
  };
}
