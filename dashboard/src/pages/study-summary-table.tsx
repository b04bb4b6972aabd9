// A study's summary as a table: per arm the seeds' mean with its 95% interval and sd, the paired
// difference against the baseline arm with its interval and p-value, and each seed's own value.
import { fmtNum } from "../lib/format.js";
import { href } from "../lib/router.js";
import type { StudySummaryFieldsFragment } from "../lib/sdk.js";
import { fmtDifference, fmtInterval, fmtMeanCi, fmtPValue } from "../lib/study-format.js";

export function StudySummaryTable({
  summary,
  baseline,
  colorOf,
}: {
  summary: StudySummaryFieldsFragment;
  baseline: string;
  colorOf(arm: string): string;
}) {
  const diffs = new Map(summary.differences.map((d) => [d.arm, d]));
  return (
    <div class="study-summary">
      <table class="table summary-table" data-metric={summary.metric} data-at={summary.at}>
        <thead>
          <tr>
            <th>Arm</th>
            <th class="num">n</th>
            <th class="num">Mean ± 95% CI</th>
            <th class="num">95% CI</th>
            <th class="num">SD</th>
            <th class="num">Δ vs {baseline} [95% CI]</th>
            <th class="num">p</th>
            <th>Per seed</th>
          </tr>
        </thead>
        <tbody>
          {summary.arms.map((a) => {
            const d = diffs.get(a.arm);
            return (
              <tr key={a.arm} class="summary-row" data-arm={a.arm}>
                <th scope="row">
                  <i class="swatch" style={{ background: colorOf(a.arm) }} /> {a.arm}
                </th>
                <td class="num cell-n">{a.n}</td>
                <td class="num cell-mean">{fmtMeanCi(a.mean, a.ciLow, a.ciHigh)}</td>
                <td class="num cell-ci">{fmtInterval(a.ciLow, a.ciHigh) || "–"}</td>
                <td class="num cell-sd">{fmtNum(a.sd)}</td>
                <td class="num cell-diff" title={d ? `${d.pairs} paired seeds: ${d.seeds.join(", ")}` : undefined}>
                  {a.arm === baseline ? <span class="muted">baseline</span> : d ? fmtDifference(d.meanDiff, d.ciLow, d.ciHigh) : "–"}
                </td>
                <td class="num cell-p">{a.arm === baseline ? "" : fmtPValue(d?.pValue)}</td>
                <td class="cell-seeds">
                  {a.values.map((v) => (
                    <a
                      key={v.seed}
                      class={`seed-value${v.final ? "" : " provisional"}`}
                      data-seed={v.seed}
                      href={href(`/runs/${v.run.id}`)}
                      title={`${v.run.name}: ${v.run.status.toLowerCase()}${v.step === null ? "" : `, step ${v.step}`}${v.final ? "" : " (still running: may change)"}`}
                    >
                      <span class="muted">{v.seed}:</span> {fmtNum(v.value)}
                    </a>
                  ))}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p class="muted summary-method">{summary.method}</p>
    </div>
  );
}
