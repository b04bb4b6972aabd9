// The runs a study is made of, one per arm and seed, each linked to its run page.
import { href } from "../lib/router.js";
import type { StudyQuery } from "../lib/sdk.js";
import { StatusBadge } from "../components/status.js";

type StudyRun = NonNullable<StudyQuery["study"]>["runs"][number];

export function StudyRunsTable({ runs, colorOf }: { runs: StudyRun[]; colorOf(arm: string): string }) {
  return (
    <table class="table study-runs">
      <thead>
        <tr>
          <th>Arm</th>
          <th class="num">Seed</th>
          <th>Run</th>
          <th>Status</th>
          <th class="num">Step</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((r) => (
          <tr key={r.id} class="study-run" data-run-id={r.id} data-arm={r.arm ?? ""} data-seed={r.seed}>
            <td>
              <i class="swatch" style={{ background: colorOf(r.arm ?? "") }} /> {r.arm}
            </td>
            <td class="num">{r.seed}</td>
            <td>
              <a class="run-link" href={href(`/runs/${r.id}`)}>
                {r.name}
              </a>
              {r.error && <div class="error-text">{r.error}</div>}
            </td>
            <td>
              <StatusBadge status={r.status} />
            </td>
            <td class="num run-step">{r.step}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
