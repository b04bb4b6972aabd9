// SQuAD v1.1 answer normalisation, matching the official evaluate-v1.1.py step for step:
// lower-case -> drop string.punctuation -> replace the words a/an/the by a space -> collapse whitespace.
// Every QA metric (EM, F1, substring EM) is defined on this normal form, so it must agree with the
// Python script on every input, including non-ASCII text.

// Python's string.punctuation: ASCII only, so "’" or "–" survive (as they do in the official script).
const PUNCTUATION = new Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~");

// Python 3 `\b` on str patterns is Unicode-aware: a word character is any letter or number
// (str.isalnum) or "_". JavaScript's `\b` is ASCII-only even with the u flag, which would wrongly
// strip "the" out of "éthe"; lookarounds over \p{L}\p{N}_ reproduce Python's boundaries.
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

// The characters Python's str.split() (no argument) splits on. JavaScript's \s differs: it includes
// U+FEFF and lacks U+001C-U+001F and U+0085. NBSP (U+00A0) occurs in real NQ-open answers.
const PY_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;

/** Python's `s.split()`: split on runs of Unicode whitespace, dropping empty pieces. */
export function pythonSplit(text: string): string[] {
  return text.split(PY_WHITESPACE).filter((token) => token.length > 0);
}

function removePunctuation(text: string): string {
  let out = "";
  for (const ch of text) if (!PUNCTUATION.has(ch)) out += ch;
  return out;
}

/** The official SQuAD v1.1 `normalize_answer`. */
export function normalizeAnswer(text: string): string {
  const lowered = text.toLowerCase();
  const noPunct = removePunctuation(lowered);
  const noArticles = noPunct.replace(ARTICLES, " ");
  return pythonSplit(noArticles).join(" ");
}
