// The Wilson interval the lookup-prior benchmark reports its search rates with
// (bench/support/stats.ts): published values and the edge cases a prior's rate sits at.
import { describe, expect, it } from "vitest";
import { wilsonInterval } from "../../bench/support/stats.js";

describe("wilsonInterval", () => {
  it("gives the textbook 95% intervals", () => {
    // 5 of 10: 0.237-0.763; 0 of 10: 0-0.278 (Wilson 1927; Newcombe 1998, table I).
    const half = wilsonInterval(5, 10);
    expect(half.low).toBeCloseTo(0.2366, 4);
    expect(half.high).toBeCloseTo(0.7634, 4);
    const none = wilsonInterval(0, 10);
    expect(none.low).toBe(0);
    expect(none.high).toBeCloseTo(0.2775, 4);
  });

  it("at 0 of n the upper bound is z²/(n+z²), and the interval is symmetric under successes -> n - successes", () => {
    const z2 = 1.959963984540054 ** 2;
    expect(wilsonInterval(0, 256).high).toBeCloseTo(z2 / (256 + z2), 12);
    const a = wilsonInterval(50, 256);
    const b = wilsonInterval(206, 256);
    expect(a.low).toBeCloseTo(1 - b.high, 12);
    expect(a.high).toBeCloseTo(1 - b.low, 12);
    expect(a.low).toBeLessThan(50 / 256);
    expect(a.high).toBeGreaterThan(50 / 256);
    expect(wilsonInterval(256, 256).high).toBeCloseTo(1, 12);
  });

  it("refuses counts that are not a proportion", () => {
    expect(() => wilsonInterval(3, 2)).toThrow(RangeError);
    expect(() => wilsonInterval(0, 0)).toThrow(RangeError);
    expect(() => wilsonInterval(1.5, 4)).toThrow(RangeError);
  });
});
