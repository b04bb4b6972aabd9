// The dashboard's chart-data helpers: live points merged into fetched series without loss or
// duplicates, and curriculum stage boundaries found where the stage changes.
import { describe, expect, it } from "vitest";
import { alignSeries, mergePoints, stageBoundaries, type Point } from "../../dashboard/src/lib/series.js";

const raw = (step: number, value: number): Point => ({ step, value, min: value, max: value, count: 1, firstStep: step, lastStep: step });
const bucket = (firstStep: number, lastStep: number, min: number, max: number): Point => ({
  step: firstStep,
  value: (min + max) / 2,
  min,
  max,
  count: lastStep - firstStep + 1,
  firstStep,
  lastStep,
});

describe("mergePoints", () => {
  it("appends new steps, replaces a raw point at the same step, and is idempotent", () => {
    const fetched = [raw(0, 0.1), raw(1, 0.2)];
    const once = mergePoints(fetched, [
      { step: 1, value: 0.25 },
      { step: 3, value: 0.4 },
      { step: 2, value: 0.3 },
    ]);
    expect(once.map((p) => [p.step, p.value])).toEqual([
      [0, 0.1],
      [1, 0.25],
      [2, 0.3],
      [3, 0.4],
    ]);
    expect(
      mergePoints(once, [
        { step: 2, value: 0.3 },
        { step: 3, value: 0.4 },
      ]),
    ).toEqual(once);
  });

  it("leaves a downsampled bucket alone when a point inside it arrives again", () => {
    const fetched = [bucket(0, 9, 0, 1), bucket(10, 19, 0.2, 0.9)];
    expect(mergePoints(fetched, [{ step: 15, value: 0.5 }])).toEqual(fetched);
    expect(mergePoints(fetched, [{ step: 20, value: 0.5 }]).map((p) => p.step)).toEqual([0, 10, 20]);
  });
});

describe("stageBoundaries", () => {
  it("marks each stage change with the shot count in force from that step", () => {
    const stage = [0, 0, 0, 1, 1, 2].map((v, i) => raw(i * 10, v));
    const shots = [3, 3, 3, 2, 2, 0].map((v, i) => raw(i * 10, v));
    expect(stageBoundaries(stage, shots)).toEqual([
      { step: 0, stage: 0, shots: 3, initial: true },
      { step: 30, stage: 1, shots: 2, initial: false },
      { step: 50, stage: 2, shots: 0, initial: false },
    ]);
  });

  it("places a change inside a downsampled bucket at the bucket's end", () => {
    const stage = [bucket(0, 99, 0, 0), bucket(100, 199, 0, 1), bucket(200, 299, 1, 1)];
    const shots = [bucket(0, 99, 3, 3), bucket(100, 199, 2, 3), bucket(200, 299, 2, 2)];
    const b = stageBoundaries(stage, shots);
    expect(b).toHaveLength(2);
    expect(b[1]).toEqual({ step: 199, stage: 1, shots: 2, initial: false });
  });
});

describe("alignSeries", () => {
  it("puts several series on the union of their steps with gaps as null", () => {
    const { x, ys } = alignSeries([
      [raw(0, 1), raw(2, 3)],
      [raw(1, 5), raw(2, 6)],
    ]);
    expect(x).toEqual([0, 1, 2]);
    expect(ys).toEqual([
      [1, null, 3],
      [null, 5, 6],
    ]);
  });
});
