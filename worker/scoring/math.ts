// Math answer metrics.
// - math_equiv: Hendrycks MATH is_equiv (string equality after _strip_string), on the content of the
//   last \boxed{...}/\fbox{...} when there is one, else on the whole text.
// - gsm8k: OpenAI grade-school-math's extract_answer / is_correct (string equality of the number
//   written after "#### ", commas removed).
// With no gold answers both return 0.
import { extractGsm8kAnswer } from "../../contracts/index.js";
import { lastBoxed } from "./boxed.js";
import { isEquivStrings } from "./math-normalize.js";

/** The answer a text states: the last box's content, the whole text when it has no box, and null
 *  when its last box never closes (Hendrycks scores that as wrong rather than guessing). */
export function mathAnswerOf(text: string): string | null {
  const boxed = lastBoxed(text);
  if (boxed.kind === "boxed") return boxed.content;
  if (boxed.kind === "none") return text;
  return null;
}

/** 1 when the prediction's answer is equivalent to some gold's. Golds may be bare answers
 *  ("\frac{14}{3}") or whole solutions ending in \boxed{...}; a gold whose box never closes is
 *  compared as written. */
export function mathEquiv(prediction: string, golds: readonly string[]): number {
  const predicted = mathAnswerOf(prediction);
  if (predicted === null) return 0;
  for (const gold of golds) {
    const expected = mathAnswerOf(gold) ?? gold;
    if (isEquivStrings(predicted, expected)) return 1;
  }
  return 0;
}

// The "#### <number>" rule lives in contracts/ because the server applies it too, on import.
export { extractGsm8kAnswer };

/** What a gold contributes: its extracted answer when it is a full solution (contains "####"),
 *  otherwise the gold itself, trimmed, commas removed. A solution whose "####" is not followed by
 *  a number contributes nothing. */
export function gsm8kGoldAnswer(gold: string): string | null {
  if (gold.includes("####")) return extractGsm8kAnswer(gold);
  return gold.trim().replaceAll(",", "");
}

/** 1 when the number after the prediction's first "#### " equals some gold's answer (as strings:
 *  "18.0" is not "18", like upstream). A prediction without "#### <number>" scores 0. */
export function gsm8k(prediction: string, golds: readonly string[]): number {
  const predicted = extractGsm8kAnswer(prediction);
  if (predicted === null) return 0;
  return golds.some((gold) => gsm8kGoldAnswer(gold) === predicted) ? 1 : 0;
}
