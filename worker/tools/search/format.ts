// Search results as the model reads them, in Search-R1's format: one line per passage,
// `Doc i(Title: <title>) <text>\n`, cut to a token budget. The local index and the remote retriever
// both format through here, so the observation does not depend on where the passages came from.
import type { CountTokens } from "./token-count.js";

export const NO_RESULTS = "No results found.";
const CUT_MARKER = " ...\n";

export interface TitledText {
  title: string;
  text: string;
}

/**
 * The passage with its text cut at the last word boundary that still fits after `kept`; "" when not even
 * one word fits (a passage is never shown without any of its text).
 */
function fitPrefix(kept: string, header: string, text: string, maxTokens: number, countTokens: CountTokens): string {
  const cuts: number[] = [];
  for (const match of text.matchAll(/\s+/g)) if (match.index > 0) cuts.push(match.index);
  const candidate = (cutIndex: number) => header + text.slice(0, cuts[cutIndex]) + CUT_MARKER;
  let low = 0;
  let high = cuts.length - 1;
  let best = "";
  while (low <= high) {
    const middle = (low + high) >> 1;
    const text = candidate(middle);
    if (countTokens(kept + text) <= maxTokens) {
      best = text;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return best;
}

export function formatSearchResults(passages: TitledText[], maxTokens: number, countTokens: CountTokens): string {
  if (passages.length === 0) return NO_RESULTS;
  let kept = "";
  for (const [index, passage] of passages.entries()) {
    const header = `Doc ${index + 1}(Title: ${passage.title}) `;
    const entry = `${header}${passage.text}\n`;
    if (countTokens(kept + entry) <= maxTokens) {
      kept += entry;
      continue;
    }
    kept += fitPrefix(kept, header, passage.text, maxTokens, countTokens);
    break;
  }
  return kept;
}
