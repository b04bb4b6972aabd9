// Chart data for a study: each arm's mean curve with its 95% band on one shared step axis, and the
// curriculum stage boundaries the API reports per arm, merged into one set of markers.
import type { StudyCurveFieldsFragment } from "./sdk.js";
import type { StageBoundary } from "./series.js";

/** An arm's line as the Chart component takes it (its ChartLine), kept free of JSX for the unit tests. */
export interface ArmLine {
  label: string;
  color: string;
  y: (number | null)[];
  min: (number | null)[];
  max: (number | null)[];
  bandLabels: [string, string];
}

/** One line per arm (in the order given), with the t-interval as its band; nulls where an arm has no bucket. */
export function curveLines(curves: StudyCurveFieldsFragment[], colorOf: (arm: string) => string): { x: number[]; lines: ArmLine[] } {
  const x = [...new Set(curves.flatMap((c) => c.points.map((p) => p.step)))].sort((a, b) => a - b);
  const index = new Map(x.map((s, i) => [s, i]));
  const lines = curves.map((c): ArmLine => {
    const y: (number | null)[] = new Array(x.length).fill(null);
    const min: (number | null)[] = new Array(x.length).fill(null);
    const max: (number | null)[] = new Array(x.length).fill(null);
    for (const p of c.points) {
      const i = index.get(p.step)!;
      y[i] = p.mean;
      min[i] = p.ciLow;
      max[i] = p.ciHigh;
    }
    // Every arm keeps its band, even before it has one (n < 2): the chart's layout then stays put as seeds finish.
    return { label: c.arm, color: colorOf(c.arm), y, min, max, bandLabels: ["95% CI high", "95% CI low"] };
  });
  return { x, lines };
}

/**
 * The shot count of each curriculum stage when every arm shares the base config's curriculum; null
 * when an arm patches it (the stages may then differ between arms) or the base config has none.
 */
export function stageShots(baseConfig: unknown, arms: { patch: unknown }[]): (stage: number) => number | null {
  const patched = arms.some((a) => a.patch !== null && typeof a.patch === "object" && "curriculum" in a.patch);
  const stages = (baseConfig as { curriculum?: { stages?: { shots?: unknown }[] } } | null)?.curriculum?.stages;
  return (stage) => {
    const shots = patched || !Array.isArray(stages) ? undefined : stages[stage]?.shots;
    return typeof shots === "number" ? shots : null;
  };
}

/** One marker per (stage, step) over all arms: arms that change stage at the same step share it. */
export function curveBoundaries(curves: StudyCurveFieldsFragment[], shotsOf: (stage: number) => number | null): StageBoundary[] {
  const seen = new Map<string, StageBoundary>();
  for (const c of curves) {
    for (const b of c.stageBoundaries) {
      const key = `${b.stage}@${b.step}`;
      if (!seen.has(key)) seen.set(key, { step: b.step, stage: b.stage, shots: shotsOf(b.stage), initial: false });
    }
  }
  return [...seen.values()].sort((a, b) => a.step - b.step || a.stage - b.stage);
}
