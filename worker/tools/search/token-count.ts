// How observation budgets are measured. Callers that have the model's tokenizer pass it in
// (text => engine.tokenize(text).length); without one, a heuristic stands in.

export type CountTokens = (text: string) => number;

/**
 * Heuristic token count: the larger of the whitespace-separated word count and one token per 4
 * characters. English BPE tokenizers land near 4 characters per token; the word count keeps text of
 * many short words (numbers, punctuation-heavy lists) from being undercounted. An estimate, not a
 * tokenizer: pass the model's own counter where exact budgets matter.
 */
export const approximateTokenCount: CountTokens = (text) => {
  const words = text.split(/\s+/).filter(Boolean).length;
  return Math.max(words, Math.ceil(text.length / 4));
};
