// Term analysis for the BM25 index, close to Lucene's classic English analyzer without stemming:
// accents folded, lower-cased, Lucene's English stop words dropped. Changing anything here changes the
// index, so ANALYZER_ID goes into the cache key.

// Lucene's EnglishAnalyzer.ENGLISH_STOP_WORDS_SET.
const STOP_WORDS = new Set([
  "a",
  "an",
  "and",
  "are",
  "as",
  "at",
  "be",
  "but",
  "by",
  "for",
  "if",
  "in",
  "into",
  "is",
  "it",
  "no",
  "not",
  "of",
  "on",
  "or",
  "such",
  "that",
  "the",
  "their",
  "then",
  "there",
  "these",
  "they",
  "this",
  "to",
  "was",
  "will",
  "with",
]);

export const ANALYZER_ID = `fold-lower-lucene-stop-v1:${[...STOP_WORDS].join(",")}`;

/** MiniSearch processTerm: the normalised term, or null to drop it. */
export function analyzeTerm(term: string): string | null {
  const folded = term
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase();
  return folded === "" || STOP_WORDS.has(folded) ? null : folded;
}
