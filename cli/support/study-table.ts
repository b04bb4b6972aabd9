// A study summary as the terminal table of `icrl study show|watch` and as the CSV of `icrl study
// export`. The numbers are the server's; this file only lays them out.
import type { StudyCurveFieldsFragment, StudySummaryFieldsFragment } from "../../client-sdk/src/index.js";
import { formatNumber, table } from "./output.js";

type ArmRow = StudySummaryFieldsFragment["arms"][number];
type DiffRow = StudySummaryFieldsFragment["differences"][number];

/** "0.8125 ± 0.05" from a symmetric interval, or "-" while there is no interval. */
export function meanWithHalfWidth(mean: number | null | undefined, low: number | null | undefined, high: number | null | undefined): string {
  if (mean == null) return "-";
  if (low == null || high == null) return formatNumber(mean);
  return `${formatNumber(mean)} ± ${formatNumber((high - low) / 2)}`;
}

export const formatInterval = (low: number | null | undefined, high: number | null | undefined) =>
  low == null || high == null ? "-" : `[${formatNumber(low)}, ${formatNumber(high)}]`;

const signed = (v: number | null | undefined) => (v == null ? "-" : `${v > 0 ? "+" : ""}${formatNumber(v)}`);

export function formatPValue(p: number | null | undefined): string {
  if (p == null) return "-";
  return p < 1e-4 ? "<0.0001" : String(Number(p.toPrecision(2)));
}

/** Which point a summary took, in words: "final", "best", "step 20". */
export function pointLabel(summary: Pick<StudySummaryFieldsFragment, "at" | "step">): string {
  return summary.at === "STEP" ? `step ${summary.step}` : summary.at.toLowerCase();
}

export function summaryTable(summary: StudySummaryFieldsFragment, baseline: string): string {
  const diffs = new Map<string, DiffRow>(summary.differences.map((d) => [d.arm, d]));
  const pct = Math.round(summary.confidence * 100);
  const rows = summary.arms.map((arm) => ({ arm, diff: diffs.get(arm.arm) }));
  return table<{ arm: ArmRow; diff?: DiffRow }>(
    [
      { header: "ARM", value: (r) => (r.arm.arm === baseline ? `${r.arm.arm} (baseline)` : r.arm.arm) },
      { header: "N", value: (r) => String(r.arm.n), align: "right" },
      { header: `MEAN ± ${pct}% CI`, value: (r) => meanWithHalfWidth(r.arm.mean, r.arm.ciLow, r.arm.ciHigh), align: "right" },
      { header: "SD", value: (r) => formatNumber(r.arm.sd), align: "right" },
      { header: `Δ VS ${baseline}`, value: (r) => signed(r.diff?.meanDiff), align: "right" },
      { header: `Δ ${pct}% CI`, value: (r) => formatInterval(r.diff?.ciLow, r.diff?.ciHigh) },
      { header: "P", value: (r) => formatPValue(r.diff?.pValue), align: "right" },
      { header: "PAIRS", value: (r) => (r.diff ? String(r.diff.pairs) : "-"), align: "right" },
      { header: "PER SEED", value: (r) => r.arm.values.map((v) => `${v.seed}:${formatNumber(v.value)}${v.final ? "" : "*"}`).join(" ") },
    ],
    rows,
  );
}

/** RFC 4180 field: quoted when it holds a comma, quote or newline. */
const csvField = (v: unknown) => {
  const s = v == null ? "" : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};
const csv = (header: string[], rows: unknown[][]) => [header, ...rows].map((r) => r.map(csvField).join(",")).join("\n") + "\n";

/** One row per arm: its summary and its difference from the baseline (empty for the baseline). Full precision. */
export function summaryCsv(study: { id: string; name: string }, summary: StudySummaryFieldsFragment): string {
  const diffs = new Map(summary.differences.map((d) => [d.arm, d]));
  return csv(
    [
      "study",
      "metric",
      "at",
      "step",
      "arm",
      "n",
      "mean",
      "sd",
      "ci_low",
      "ci_high",
      "baseline",
      "pairs",
      "diff_mean",
      "diff_ci_low",
      "diff_ci_high",
      "p_value",
    ],
    summary.arms.map((a) => {
      const d = diffs.get(a.arm);
      return [
        study.name,
        summary.metric,
        summary.at,
        summary.step,
        a.arm,
        a.n,
        a.mean,
        a.sd,
        a.ciLow,
        a.ciHigh,
        d?.baseline,
        d?.pairs,
        d?.meanDiff,
        d?.ciLow,
        d?.ciHigh,
        d?.pValue,
      ];
    }),
  );
}

/** One row per run (tidy data for R or pandas): the value the summary took from it. */
export function valuesCsv(study: { id: string; name: string }, summary: StudySummaryFieldsFragment): string {
  return csv(
    ["study", "metric", "at", "arm", "seed", "run_id", "run_name", "run_status", "step", "value", "final"],
    summary.arms.flatMap((a) =>
      a.values.map((v) => [study.name, summary.metric, summary.at, a.arm, v.seed, v.run.id, v.run.name, v.run.status, v.step, v.value, v.final]),
    ),
  );
}

/** One row per arm and step bucket of the mean curves. */
export function curvesCsv(study: { id: string; name: string }, metric: string, curves: StudyCurveFieldsFragment[]): string {
  return csv(
    ["study", "metric", "arm", "step", "n", "mean", "ci_low", "ci_high"],
    curves.flatMap((c) => c.points.map((p) => [study.name, metric, c.arm, p.step, p.n, p.mean, p.ciLow, p.ciHigh])),
  );
}
