// The statistics every study summary uses, in one place (schema.graphql states them for users):
// Student-t intervals for a mean and the paired t-test, both from @stdlib/stats-ttest. Degenerate
// cases are explicit rather than NaN: one value has no spread, so no interval; values that are all
// equal have a zero-width interval and no p-value (the t statistic is undefined).
import ttest from "@stdlib/stats-ttest";

export const CONFIDENCE = 0.95;
const ALPHA = 1 - CONFIDENCE;
/**
 * Spread below this fraction of the values' magnitude is floating-point rounding, not data: three
 * seeds that all scored 2/24 have a mean that differs from 2/24 in the last bit, so their sd comes out
 * near 1e-17, and @stdlib/stats-ttest then returns a NaN interval (a study summary failed so). Such
 * values are treated as equal.
 */
const ROUNDING = 1e-12;

export const METHOD =
  "per arm: mean, sample sd (n-1) and a two-sided 95% Student-t interval over seeds; differences: paired over shared seeds, " +
  "mean difference with its 95% t-interval and a two-sided paired t-test p-value (@stdlib/stats-ttest)";

export interface MeanSummary {
  n: number;
  mean: number | null;
  sd: number | null;
  ciLow: number | null;
  ciHigh: number | null;
}

export interface PairedSummary {
  pairs: number;
  meanDiff: number | null;
  ciLow: number | null;
  ciHigh: number | null;
  pValue: number | null;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

export function summarizeMean(values: number[]): MeanSummary {
  const n = values.length;
  if (n === 0) return { n, mean: null, sd: null, ciLow: null, ciHigh: null };
  const mean = sum(values) / n;
  if (n === 1) return { n, mean, sd: null, ciLow: null, ciHigh: null };
  const sd = Math.sqrt(sum(values.map((v) => (v - mean) ** 2)) / (n - 1));
  if (sd <= ROUNDING * Math.max(...values.map(Math.abs))) return { n, mean, sd: 0, ciLow: mean, ciHigh: mean };
  const t = ttest(values, { alpha: ALPHA });
  return { n, mean, sd, ciLow: t.ci[0], ciHigh: t.ci[1] };
}

/** `arm` and `baseline` are the two arms' values for the same seeds, in the same order. */
export function summarizePaired(arm: number[], baseline: number[]): PairedSummary {
  if (arm.length !== baseline.length) throw new Error("paired samples must have the same length");
  const diffs = arm.map((v, i) => v - baseline[i]);
  const m = summarizeMean(diffs);
  if (m.n < 2 || m.sd === null || m.sd === 0) return { pairs: m.n, meanDiff: m.mean, ciLow: m.ciLow, ciHigh: m.ciHigh, pValue: null };
  const t = ttest(arm, baseline, { alpha: ALPHA });
  return { pairs: m.n, meanDiff: m.mean, ciLow: t.ci[0], ciHigh: t.ci[1], pValue: t.pValue };
}
