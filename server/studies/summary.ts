// A study summary: per arm the chosen value of each seed's run and their mean with a t-interval;
// per non-baseline arm the paired difference against the baseline over the seeds both have.
import type pg from "pg";
import type { Run } from "../generated/prisma/client.js";
import { pickRunValues, type PointChoice, type RunValue } from "./metric-values.js";
import { CONFIDENCE, METHOD, summarizeMean, summarizePaired, type MeanSummary, type PairedSummary } from "./statistics.js";
import { isFinished, type StoredArm } from "./study-runs.js";

export interface SeedValue {
  seed: number;
  run: Run;
  value: number | null;
  step: number | null;
  final: boolean;
}

export interface ArmSummary extends MeanSummary {
  arm: string;
  values: SeedValue[];
}

export interface Difference extends PairedSummary {
  arm: string;
  baseline: string;
  seeds: number[];
}

export interface StudySummary {
  metric: string;
  at: PointChoice["at"];
  step: number | null;
  confidence: number;
  method: string;
  arms: ArmSummary[];
  differences: Difference[];
}

export function summarizeValues(
  arms: StoredArm[],
  runs: Run[],
  picked: Map<string, RunValue>,
  baseline: string,
): Pick<StudySummary, "arms" | "differences"> {
  const armSummaries = arms.map((arm): ArmSummary => {
    const values = runs
      .filter((r) => r.arm === arm.name)
      .map((run) => {
        const v = picked.get(run.id);
        return { seed: run.seed, run, value: v?.value ?? null, step: v?.step ?? null, final: isFinished(run.status) };
      });
    return { arm: arm.name, values, ...summarizeMean(values.flatMap((v) => (v.value === null ? [] : [v.value]))) };
  });
  const base = armSummaries.find((a) => a.arm === baseline);
  const differences = armSummaries
    .filter((a) => a.arm !== baseline)
    .map((a): Difference => {
      const baseBySeed = new Map((base?.values ?? []).flatMap((v) => (v.value === null ? [] : [[v.seed, v.value] as const])));
      const shared = a.values.filter((v) => v.value !== null && baseBySeed.has(v.seed));
      const seeds = shared.map((v) => v.seed);
      return {
        arm: a.arm,
        baseline,
        seeds,
        ...summarizePaired(
          shared.map((v) => v.value as number),
          seeds.map((s) => baseBySeed.get(s) as number),
        ),
      };
    });
  return { arms: armSummaries, differences };
}

export async function studySummary(
  pool: pg.Pool,
  input: { arms: StoredArm[]; runs: Run[]; metric: string; choice: PointChoice; baseline: string },
): Promise<StudySummary> {
  const picked = await pickRunValues(
    pool,
    input.runs.map((r) => r.id),
    input.metric,
    input.choice,
  );
  return {
    metric: input.metric,
    at: input.choice.at,
    step: input.choice.at === "STEP" ? input.choice.step : null,
    confidence: CONFIDENCE,
    method: METHOD,
    ...summarizeValues(input.arms, input.runs, picked, input.baseline),
  };
}
