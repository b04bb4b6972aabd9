// The accuracy of one extracted answer against a question's golds: the one rule training rewards,
// validation and benchmarks all apply (they once each had their own copy of the gsm8k reading).
// With several golds, "containsAll" also accepts an answer that names every one of them, as the
// official reward's set match does (docs/paper-fidelity.md); "any" is the metric alone.
import type { MultiGold } from "../../contracts/index.js";
import { getScorer, type MetricName } from "./metrics.js";
import { normalizeAnswer } from "./normalize.js";

export interface AccuracyOptions {
  metric: MetricName;
  /** Default "any". */
  multiGold?: MultiGold;
  /** f1 only: HotpotQA's yes/no/noanswer rule. */
  hotpotYesNo?: boolean;
}

/** What the metric sees. The gsm8k metric reads the number after "#### "; inside <answer> a model
 *  usually writes just the number, so a bare answer is read as "#### <answer>". */
export function predictionFor(metric: MetricName, answer: string): string {
  if (metric === "gsm8k" && !answer.includes("####")) return `#### ${answer.trim()}`;
  return answer;
}

/** True when the SQuAD-normalised answer contains every SQuAD-normalised gold (the official set match). */
export function containsAllGolds(answer: string, golds: readonly string[]): boolean {
  const normalized = normalizeAnswer(answer);
  return golds.every((gold) => normalized.includes(normalizeAnswer(gold)));
}

/** The metric's score of `answer` (0 when there is none); "containsAll" raises it to 1 where the set match holds. */
export function accuracyOf(answer: string | null, golds: readonly string[], options: AccuracyOptions): number {
  if (answer === null) return 0;
  const score = getScorer(options.metric, { hotpotYesNo: options.hotpotYesNo })(predictionFor(options.metric, answer), golds);
  // The official code tries the set match only for questions with more than one gold.
  if (score >= 1 || options.multiGold !== "containsAll" || golds.length < 2) return score;
  return containsAllGolds(answer, golds) ? 1 : score;
}
