// The study statistics at their edges: values that are equal except for floating-point rounding (every
// seed scored 2/24) once made @stdlib/stats-ttest return a NaN interval, and the summary of a real
// study failed with "Float cannot represent non numeric value: NaN". Equal values have a zero-width
// interval and no p-value; real spread, however small against the values, still gets its t-interval.
import ttest from "@stdlib/stats-ttest";
import { expect, it } from "vitest";
import { summarizeMean, summarizePaired } from "../../server/studies/statistics.js";

const finiteOrNull = (v: number | null) => v === null || Number.isFinite(v);

it("values equal but for rounding: a zero-width interval, and no p-value for their differences", () => {
  for (let k = 0; k <= 24; k++) {
    for (let n = 2; n <= 10; n++) {
      const x = k / 24;
      const y = (k + 1) / 24;
      const mean = summarizeMean(Array(n).fill(x - y));
      expect(mean.sd).toBe(0);
      expect(mean.ciLow).toBe(mean.ciHigh);
      expect(mean.mean).toBeCloseTo(x - y, 15);
      const paired = summarizePaired(Array(n).fill(x), Array(n).fill(y));
      expect(paired).toMatchObject({ pairs: n, pValue: null });
      expect(paired.ciLow).toBe(paired.ciHigh);
      expect([paired.meanDiff, paired.ciLow, paired.ciHigh].every(finiteOrNull)).toBe(true);
    }
  }
  // Differences that are the same number computed two ways (0.125 - 1/12 and 1/6 - 0.125).
  const paired = summarizePaired([0.125, 1 / 6, 0.125], [1 / 12, 0.125, 1 / 12]);
  expect(paired.pValue).toBeNull();
  expect(paired.ciHigh! - paired.ciLow!).toBe(0);
});

it("real spread keeps the t-interval and p-value of @stdlib/stats-ttest, even when tiny against the values", () => {
  const values = [1000, 1000.001, 999.999, 1000.002];
  const t = ttest(values, { alpha: 0.05 });
  expect(summarizeMean(values)).toMatchObject({ n: 4, ciLow: t.ci[0], ciHigh: t.ci[1] });
  expect(summarizeMean(values).ciHigh! - summarizeMean(values).ciLow!).toBeGreaterThan(0);
  const arm = [0.5, 0.625, 0.75, 0.5];
  const base = [0.25, 0.5, 0.5, 0.375];
  const pt = ttest(arm, base, { alpha: 0.05 });
  expect(summarizePaired(arm, base)).toMatchObject({ pairs: 4, ciLow: pt.ci[0], ciHigh: pt.ci[1], pValue: pt.pValue });
});
