// Chart data helpers: merging live metric points into fetched (possibly downsampled) series,
// deriving curriculum stage boundaries, and aligning several series on one x axis.
import type { MetricSeriesColumnsQuery } from "./sdk.js";

export interface Point {
  step: number;
  value: number;
  min: number;
  max: number;
  count: number;
  firstStep: number;
  lastStep: number;
}

/** The columnar form metricSeries returns (MetricSeries.columns): parallel lists, one entry per point. */
export type SeriesColumns = MetricSeriesColumnsQuery["metricSeries"][number]["columns"];

/** Chart points from metricSeries' columns (a point's step is also its firstStep). */
export function pointsFromColumns(c: SeriesColumns): Point[] {
  const out: Point[] = new Array(c.steps.length);
  for (let i = 0; i < out.length; i++) {
    out[i] = {
      step: c.steps[i],
      value: c.values[i],
      min: c.mins[i],
      max: c.maxs[i],
      count: c.counts[i],
      firstStep: c.steps[i],
      lastStep: c.lastSteps[i],
    };
  }
  return out;
}

export interface StageBoundary {
  step: number;
  stage: number;
  shots: number | null;
  /** The first stage seen, at the start of the data: labelled but not a boundary. */
  initial: boolean;
}

/**
 * Adds raw points (from the live stream) to a series ordered by step. A point at a step the series
 * already covers replaces a raw point there and is ignored inside a downsampled bucket, so merging
 * the same points twice (a fetch that overlaps the stream) changes nothing.
 */
export function mergePoints(series: Point[], raw: { step: number; value: number }[]): Point[] {
  if (!raw.length) return series;
  const out = series.slice();
  for (const p of [...raw].sort((a, b) => a.step - b.step)) {
    const fresh: Point = { step: p.step, value: p.value, min: p.value, max: p.value, count: 1, firstStep: p.step, lastStep: p.step };
    const last = out[out.length - 1];
    if (!last || p.step > last.lastStep) {
      out.push(fresh);
      continue;
    }
    const i = lowerBound(out, p.step);
    const at = out[i];
    if (at && at.count === 1 && at.step === p.step) out[i] = fresh;
    else if (!at || p.step < at.firstStep) out.splice(i, 0, fresh);
    // else: inside a downsampled bucket that already counts it
  }
  return out;
}

/** Index of the first point whose lastStep >= step. */
function lowerBound(points: Point[], step: number): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (points[mid].lastStep < step) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Stage boundaries from the `curriculum/stage` and `curriculum/shots` series: a boundary wherever
 * the stage value changes, labelled with the shot count in force at that step.
 */
export function stageBoundaries(stage: Point[], shots: Point[]): StageBoundary[] {
  const out: StageBoundary[] = [];
  let previous: number | null = null;
  for (const p of stage) {
    // A downsampled bucket spanning a change holds both stages; its end carries the new one.
    const value = p.min !== p.max ? p.max : p.value;
    const at = p.min !== p.max ? p.lastStep : p.step;
    if (previous === null || value !== previous) {
      out.push({ step: previous === null ? p.firstStep : at, stage: value, shots: shotsAt(shots, at), initial: previous === null });
      previous = value;
    }
  }
  return out;
}

function shotsAt(shots: Point[], step: number): number | null {
  let found: number | null = null;
  for (const p of shots) {
    if (p.firstStep > step) break;
    // A downsampled bucket holding a change (its mean is meaningless): curricula only lower the
    // shot count, so its minimum is the count from the change on.
    found = p.min === p.max ? p.value : p.min;
  }
  return found === null ? null : Math.round(found);
}

/** One x axis for several series: the sorted union of their steps, with nulls where one has none. */
export function alignSeries(series: { step: number; value: number }[][]): { x: number[]; ys: (number | null)[][] } {
  const steps = new Set<number>();
  for (const s of series) for (const p of s) steps.add(p.step);
  const x = [...steps].sort((a, b) => a - b);
  const index = new Map(x.map((s, i) => [s, i]));
  const ys = series.map((s) => {
    const y: (number | null)[] = new Array(x.length).fill(null);
    for (const p of s) y[index.get(p.step)!] = p.value;
    return y;
  });
  return { x, ys };
}
