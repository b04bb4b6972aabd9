// GSM8K's answer convention, shared by the server (importing raw GSM8K, whose "answer" is the whole
// worked solution ending in "#### 72") and the worker's gsm8k scorer, so both read the same number.
// OpenAI's ANS_RE: the first place where "#### " is directly followed by a number wins, so a "#### "
// followed by words is skipped. As upstream: "#### 18 dollars" reads "18", "#### $18" reads nothing,
// and "#### 18." reads "18." (the dot is part of the match), which does not equal "18".
const GSM8K_ANSWER = /#### (-?[0-9.,]+)/;

/** The number after "#### " with commas removed, or null when there is none. */
export function extractGsm8kAnswer(text: string): string | null {
  const match = GSM8K_ANSWER.exec(text);
  return match ? match[1].replaceAll(",", "") : null;
}
