// What a tokenizer source gives the model builder: the GGUF tokenizer.* metadata of a model family,
// in the form llama.cpp's convert_hf_to_gguf.py writes it, so llama.cpp tokenizes our files exactly as it
// tokenizes the converted originals.

/** llama.cpp's llama_token_type (gguf.TokenType in gguf-py). */
export const TokenType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

export interface Vocabulary {
  /** Token texts, id order (GPT-2 byte-level characters for byte-level BPE). */
  tokens: string[];
  tokenTypes: number[];
  /** "a b" pairs, highest priority first; empty for the byte vocabulary (every byte its own token). */
  merges: string[];
  /** tokenizer.ggml.pre: selects llama.cpp's pre-tokenizer regexes. */
  pre: string;
  bosId: number;
  eosId: number;
  paddingId?: number;
  addBos: boolean;
  chatTemplate: string;
  /** The architecture the tiny shape uses with this tokenizer (what its models are). */
  architecture: "llama" | "qwen2" | "qwen3";
}

/**
 * Pad to `rows` tokens the way convert_hf_to_gguf.py's get_vocab_base does for ids the tokenizer lacks
 * (models round their embedding rows up): "[PAD<id>]", type UNUSED.
 */
export function padVocabulary(vocab: Vocabulary, rows: number): Vocabulary {
  if (rows < vocab.tokens.length) {
    throw new RangeError(
      `the shape has ${rows} embedding rows but the tokenizer has ${vocab.tokens.length} tokens: pick a shape made for this tokenizer`,
    );
  }
  const tokens = vocab.tokens.slice();
  const tokenTypes = vocab.tokenTypes.slice();
  for (let id = tokens.length; id < rows; id++) {
    tokens.push(`[PAD${id}]`);
    tokenTypes.push(TokenType.UNUSED);
  }
  return { ...vocab, tokens, tokenTypes };
}
