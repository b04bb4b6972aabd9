// The accuracy metrics by name, so configs, the CLI and the reward pick one with a string.
import { em, f1, subem } from "./qa.js";
import { gsm8k, mathEquiv } from "./math.js";

export const METRIC_NAMES = ["em", "f1", "subem", "math_equiv", "gsm8k"] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/** A score in [0, 1] of one prediction against its gold answers (the best gold counts). */
export type Scorer = (prediction: string, golds: readonly string[]) => number;

export interface MetricOptions {
  /** f1 only: HotpotQA's yes/no/noanswer rule. */
  hotpotYesNo?: boolean;
}

export const scorers: Readonly<Record<MetricName, Scorer>> = Object.freeze({
  em,
  f1: (prediction: string, golds: readonly string[]) => f1(prediction, golds),
  subem,
  math_equiv: mathEquiv,
  gsm8k,
});

export function isMetricName(name: string): name is MetricName {
  return (METRIC_NAMES as readonly string[]).includes(name);
}

/** The scorer for a metric, with its options applied. */
export function getScorer(metric: MetricName, options: MetricOptions = {}): Scorer {
  if (metric === "f1" && options.hotpotYesNo) {
    return (prediction, golds) => f1(prediction, golds, { hotpotYesNo: true });
  }
  return scorers[metric];
}
