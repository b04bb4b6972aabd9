// Open-domain QA metrics on SQuAD-normalised text.
// - em, f1: official SQuAD v1.1 (evaluate-v1.1.py), maximum over the gold answers.
// - subem: Search-R1's substring exact match (a normalised gold occurs inside the normalised prediction).
// - HotpotQA's yes/no rule for F1 is opt-in (hotpot_evaluate_v1.py).
// With no gold answers every metric returns 0 (the Python scripts would raise on max([])).
import { normalizeAnswer, pythonSplit } from "./normalize.js";

export interface F1Options {
  /** HotpotQA rule: when either normal form is "yes", "no" or "noanswer" and they differ, F1 is 0. */
  hotpotYesNo?: boolean;
}

const HOTPOT_SPECIAL = new Set(["yes", "no", "noanswer"]);

/** Exact match (0 or 1) against the best gold. Two empty normal forms match, as in SQuAD v1.1. */
export function em(prediction: string, golds: readonly string[]): number {
  const pred = normalizeAnswer(prediction);
  return golds.some((gold) => normalizeAnswer(gold) === pred) ? 1 : 0;
}

/** Substring exact match: 1 when some normalised gold is contained in the normalised prediction.
 *  Character containment, not token containment ("1" is inside "10"); a gold whose normal form is
 *  empty (e.g. "The") is inside every prediction, exactly as in Search-R1. */
export function subem(prediction: string, golds: readonly string[]): number {
  const pred = normalizeAnswer(prediction);
  return golds.some((gold) => pred.includes(normalizeAnswer(gold))) ? 1 : 0;
}

/** Token-level F1 of one prediction against one gold (SQuAD v1.1: 0 when no token is shared,
 *  so two empty answers score 0 here although EM gives them 1). */
export function f1Single(prediction: string, gold: string, options: F1Options = {}): number {
  const normPred = normalizeAnswer(prediction);
  const normGold = normalizeAnswer(gold);
  if (options.hotpotYesNo && normPred !== normGold) {
    if (HOTPOT_SPECIAL.has(normPred) || HOTPOT_SPECIAL.has(normGold)) return 0;
  }
  const predTokens = pythonSplit(normPred);
  const goldTokens = pythonSplit(normGold);
  // Multiset intersection, like Counter(pred) & Counter(gold).
  const goldCounts = new Map<string, number>();
  for (const token of goldTokens) goldCounts.set(token, (goldCounts.get(token) ?? 0) + 1);
  let same = 0;
  for (const token of predTokens) {
    const left = goldCounts.get(token) ?? 0;
    if (left > 0) {
      same += 1;
      goldCounts.set(token, left - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / predTokens.length;
  const recall = same / goldTokens.length;
  return (2 * precision * recall) / (precision + recall);
}

/** Token-level F1, maximum over the golds. */
export function f1(prediction: string, golds: readonly string[], options: F1Options = {}): number {
  let best = 0;
  for (const gold of golds) best = Math.max(best, f1Single(prediction, gold, options));
  return best;
}
