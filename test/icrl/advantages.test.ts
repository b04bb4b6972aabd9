import { describe, expect, it } from "vitest";
import { batchAdvantages, groupAdvantages } from "../../worker/icrl/advantages.js";

describe("GRPO advantages", () => {
  it("normalises by the unbiased sample std, as verl's torch.std does", () => {
    const { advantages, mean, std, zeroVariance } = groupAdvantages([1, 0, 0, 0]);
    expect(mean).toBe(0.25);
    // Sample std: sqrt((0.75^2 + 3 * 0.25^2) / 3) = 0.5 (the population std would be 0.433).
    expect(std).toBeCloseTo(0.5, 12);
    expect(zeroVariance).toBe(false);
    const expected = [0.75, -0.25, -0.25, -0.25].map((d) => d / (0.5 + 1e-6));
    for (const [i, a] of advantages.entries()) expect(a).toBeCloseTo(expected[i], 12);
    expect(advantages[0]).toBeCloseTo(1.5, 5);
  });

  it("uses the paper's reward scale and epsilon", () => {
    const rewards = [0.8 + 0.2, 0.2 * 0.9, 0.2 * 0.75, 0];
    const { advantages } = groupAdvantages(rewards, { epsilon: 1e-6 });
    const sum = advantages.reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(0, 10);
    expect(advantages[0]).toBeGreaterThan(advantages[1]);
    expect(advantages[3]).toBeLessThan(0);
  });

  it("flags zero-variance groups and gives them exactly zero advantages", () => {
    const same = groupAdvantages([0.1, 0.1, 0.1]);
    expect(same.zeroVariance).toBe(true);
    expect(same.advantages).toEqual([0, 0, 0]);
    expect(same.std).toBe(0);
    expect(groupAdvantages([0.1, 0.1, 0.1 + 1e-9]).zeroVariance).toBe(false);
  });

  it("treats a group of one like verl (mean 0, std 1) and flags it", () => {
    const one = groupAdvantages([0.7]);
    expect(one).toMatchObject({ mean: 0, std: 1, zeroVariance: true });
    expect(one.advantages[0]).toBeCloseTo(0.7 / (1 + 1e-6), 12);
  });

  it("can centre without dividing by the std", () => {
    expect(groupAdvantages([1, 0], { normalizeByStd: false }).advantages).toEqual([0.5, -0.5]);
  });

  it("normalises each group of a flat batch separately", () => {
    const { advantages, groups } = batchAdvantages([1, 0, 0.5, 0.5, 0, 1], ["a", "a", "b", "b", "c", "c"]);
    const a = groupAdvantages([1, 0]).advantages;
    expect(advantages).toEqual([a[0], a[1], 0, 0, a[1], a[0]]);
    expect([...groups.keys()]).toEqual(["a", "b", "c"]);
    expect(groups.get("b")!.zeroVariance).toBe(true);
    expect(() => batchAdvantages([1], ["a", "b"])).toThrow(RangeError);
  });

  it("rejects empty groups and non-finite rewards", () => {
    expect(() => groupAdvantages([])).toThrow(RangeError);
    expect(() => groupAdvantages([1, Number.NaN])).toThrow(RangeError);
  });
});
