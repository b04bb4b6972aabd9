// The study page's data helpers: arms' curves on one step axis with their bands, stage boundaries
// merged over arms and named by the base curriculum, and the table's number formats.
import { describe, expect, it } from "vitest";
import { curveBoundaries, curveLines, stageShots } from "../../dashboard/src/lib/study-curves.js";
import { fmtDifference, fmtInterval, fmtMeanCi, fmtProgress, fmtPValue } from "../../dashboard/src/lib/study-format.js";

const point = (step: number, mean: number, ci: number | null = null) => ({
  step,
  n: ci === null ? 1 : 2,
  mean,
  ciLow: ci === null ? null : mean - ci,
  ciHigh: ci === null ? null : mean + ci,
});

describe("curveLines", () => {
  it("puts every arm on the union of steps, nulls where an arm has no bucket, and keeps a band even without an interval", () => {
    const { x, lines } = curveLines(
      [
        { arm: "a", points: [point(0, 0.1, 0.05), point(2, 0.3, 0.1)], stageBoundaries: [] },
        { arm: "b", points: [point(1, 0.2)], stageBoundaries: [] },
      ],
      (arm) => (arm === "a" ? "#2563eb" : "#dc2626"),
    );
    expect(x).toEqual([0, 1, 2]);
    expect(lines.map((l) => [l.label, l.color, l.y])).toEqual([
      ["a", "#2563eb", [0.1, null, 0.3]],
      ["b", "#dc2626", [null, 0.2, null]],
    ]);
    expect(lines[0].min.map((v) => v?.toFixed(2) ?? null)).toEqual(["0.05", null, "0.20"]);
    expect(lines[1].max).toEqual([null, null, null]);
    expect(lines[1].bandLabels).toEqual(["95% CI high", "95% CI low"]);
  });
});

describe("stage boundaries", () => {
  const base = { curriculum: { stages: [{ shots: 3 }, { shots: 2 }, { shots: 0 }] } };
  const curves = [
    {
      arm: "a",
      points: [],
      stageBoundaries: [
        { stage: 1, step: 10 },
        { stage: 2, step: 20 },
      ],
    },
    {
      arm: "b",
      points: [],
      stageBoundaries: [
        { stage: 1, step: 10 },
        { stage: 2, step: 22 },
      ],
    },
  ];

  it("shares a marker between arms that change stage at the same step, and names the stage by its shots", () => {
    const shots = stageShots(base, [{ patch: {} }, { patch: { grpo: { lr: 1 } } }]);
    expect(curveBoundaries(curves, shots)).toEqual([
      { step: 10, stage: 1, shots: 2, initial: false },
      { step: 20, stage: 2, shots: 0, initial: false },
      { step: 22, stage: 2, shots: 0, initial: false },
    ]);
  });

  it("does not guess the shots when an arm patches the curriculum or there is none", () => {
    expect(stageShots(base, [{ patch: {} }, { patch: { curriculum: { stages: [{ shots: 1 }] } } }])(1)).toBeNull();
    expect(stageShots({}, [{ patch: {} }])(1)).toBeNull();
    expect(stageShots(base, [{ patch: {} }])(5)).toBeNull();
  });
});

describe("study formats", () => {
  it("writes means with their half-interval, differences signed, p-values and progress", () => {
    expect(fmtMeanCi(0.5, 0.25, 0.75)).toBe("0.500 ± 0.250");
    expect(fmtMeanCi(0.5, null, null)).toBe("0.500");
    expect(fmtMeanCi(null, null, null)).toBe("–");
    expect(fmtInterval(-0.1, 0.3)).toBe("[-0.100, 0.300]");
    expect(fmtInterval(null, 0.3)).toBe("");
    expect(fmtDifference(0.25, -0.1, 0.6)).toBe("+0.250 [-0.100, 0.600]");
    expect(fmtDifference(-0.0000127, null, null)).toBe("-1.27e-5");
    expect(fmtDifference(0, 0, 0)).toBe("0 [0, 0]");
    expect(fmtPValue(0.0823)).toBe("0.082");
    expect(fmtPValue(0.00001)).toBe("<0.001");
    expect(fmtPValue(null)).toBe("–");
    expect(fmtProgress({ total: 6, queued: 1, running: 1, succeeded: 3, failed: 1, cancelled: 0 })).toBe(
      "3/6 succeeded · 1 running · 1 queued · 1 failed",
    );
  });
});
