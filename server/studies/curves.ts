// Mean curves per arm with a band: steps fall into at most maxPoints equal buckets (like
// metricSeries), each seed contributes its mean over a bucket, and the band is the t-interval over
// seeds. A bucket is labelled with the last step any run logged in it.
import type pg from "pg";
import { METRIC } from "../../contracts/index.js";
import type { Run } from "../generated/prisma/client.js";
import { runSeries, stageStarts } from "./metric-values.js";
import { summarizeMean } from "./statistics.js";
import type { StoredArm } from "./study-runs.js";

export interface CurvePoint {
  step: number;
  n: number;
  mean: number;
  ciLow: number | null;
  ciHigh: number | null;
}

export interface StudyCurve {
  arm: string;
  points: CurvePoint[];
  stageBoundaries: { stage: number; step: number }[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : Math.round((s[mid - 1] + s[mid]) / 2);
};

export async function studyCurves(
  pool: pg.Pool,
  input: { arms: StoredArm[]; runs: Run[]; metric: string; maxPoints: number },
): Promise<StudyCurve[]> {
  const runIds = input.runs.map((r) => r.id);
  const [series, stages] = await Promise.all([runSeries(pool, runIds, input.metric), stageStarts(pool, runIds, METRIC.stage)]);
  const maxStep = series.reduce((m, p) => Math.max(m, p.step), 0);
  const width = Math.max(1, Math.ceil((maxStep + 1) / Math.max(1, input.maxPoints)));
  const armOf = new Map(input.runs.map((r) => [r.id, r.arm ?? ""]));

  return input.arms.map((arm) => {
    // bucket -> run -> values in that bucket
    const buckets = new Map<number, { label: number; byRun: Map<string, number[]> }>();
    for (const p of series) {
      if (armOf.get(p.runId) !== arm.name) continue;
      const b = Math.floor(p.step / width);
      let bucket = buckets.get(b);
      if (!bucket) buckets.set(b, (bucket = { label: p.step, byRun: new Map() }));
      bucket.label = Math.max(bucket.label, p.step);
      const vals = bucket.byRun.get(p.runId) ?? [];
      vals.push(p.value);
      bucket.byRun.set(p.runId, vals);
    }
    const points = [...buckets.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([, bucket]) => {
        const perRun = [...bucket.byRun.values()].map((vs) => vs.reduce((a, b) => a + b, 0) / vs.length);
        const s = summarizeMean(perRun);
        return { step: bucket.label, n: s.n, mean: s.mean as number, ciLow: s.ciLow, ciHigh: s.ciHigh };
      });
    const starts = new Map<number, number[]>();
    for (const s of stages) {
      if (armOf.get(s.runId) !== arm.name || s.stage < 1) continue;
      starts.set(s.stage, [...(starts.get(s.stage) ?? []), s.step]);
    }
    const stageBoundaries = [...starts.entries()].sort((a, b) => a[0] - b[0]).map(([stage, steps]) => ({ stage, step: median(steps) }));
    return { arm: arm.name, points, stageBoundaries };
  });
}
