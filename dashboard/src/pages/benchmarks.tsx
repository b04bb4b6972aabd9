// Benchmarks as in a paper's results table: one row per model (+ adapter step), one column per
// benchmark dataset, exact match x100 and the row average. A cell opens that benchmark run.
import { useEffect, useState } from "preact/hooks";
import { errorMessage, useSession } from "../lib/api.js";
import { basename, fmtTime } from "../lib/format.js";
import { href } from "../lib/router.js";
import { BenchmarkRunsDocument, type BenchmarkRunFieldsFragment, type BenchmarkRunsQuery } from "../lib/sdk.js";
import { ErrorLine, Loading, StatusBadge } from "../components/status.js";

const MAX_RUNS = 1000;

/** EM for QA sets; math sets report accuracy. x100 like the paper. */
export function scoreOf(run: BenchmarkRunFieldsFragment): number | null {
  const agg = (run.aggregate ?? {}) as Record<string, unknown>;
  const v = typeof agg.em === "number" ? agg.em : typeof agg.accuracy === "number" ? agg.accuracy : null;
  return v === null ? null : v * 100;
}

function rowKey(run: BenchmarkRunFieldsFragment): string {
  const model = basename(run.model);
  return run.adapterArtifact ? `${model} + adapter @ step ${run.adapterArtifact.step ?? "?"}` : `${model} (base)`;
}

/** The run a cell shows: the newest finished one, else the newest. */
function better(a: BenchmarkRunFieldsFragment | undefined, b: BenchmarkRunFieldsFragment): BenchmarkRunFieldsFragment {
  if (!a) return b;
  const done = (r: BenchmarkRunFieldsFragment) => r.status === "SUCCEEDED";
  if (done(a) !== done(b)) return done(a) ? a : b;
  return a.createdAt >= b.createdAt ? a : b;
}

export function BenchmarksPage() {
  const { client } = useSession();
  const [runs, setRuns] = useState<BenchmarkRunFieldsFragment[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    (async () => {
      const all: BenchmarkRunFieldsFragment[] = [];
      let after: string | null = null;
      do {
        const page: BenchmarkRunsQuery = await client.query(BenchmarkRunsDocument, { first: 200, after }, { signal: controller.signal });
        all.push(...page.benchmarkRuns.nodes);
        after = page.benchmarkRuns.pageInfo.hasNextPage ? (page.benchmarkRuns.pageInfo.endCursor ?? null) : null;
      } while (after && all.length < MAX_RUNS);
      setRuns(all);
    })().catch((err) => !controller.signal.aborted && setError(errorMessage(err)));
    return () => controller.abort();
  }, []);

  if (error) return <ErrorLine error={error} />;
  if (!runs) return <Loading what="Loading benchmark runs" />;

  const datasets = [...new Set(runs.map((r) => r.dataset.name))].sort();
  const rows = new Map<string, Map<string, BenchmarkRunFieldsFragment>>();
  for (const r of runs) {
    const row = rows.get(rowKey(r)) ?? new Map<string, BenchmarkRunFieldsFragment>();
    row.set(r.dataset.name, better(row.get(r.dataset.name), r));
    rows.set(rowKey(r), row);
  }

  return (
    <section>
      <header class="page-header">
        <h1>Benchmarks</h1>
        <p class="muted">Exact match ×100 (accuracy for math sets). Avg over the datasets a row has; * marks a row missing some.</p>
      </header>
      {runs.length === 0 ? (
        <p class="muted">No benchmark runs yet. Start one with the CLI.</p>
      ) : (
        <table class="table bench-table">
          <thead>
            <tr>
              <th>Model</th>
              {datasets.map((d) => (
                <th key={d} class="num">
                  {d}
                </th>
              ))}
              <th class="num">Avg</th>
            </tr>
          </thead>
          <tbody>
            {[...rows.entries()]
              .sort((a, b) => a[0].localeCompare(b[0]))
              .map(([model, cells]) => {
                const scores = datasets.map((d) => (cells.get(d) ? scoreOf(cells.get(d)!) : null)).filter((s): s is number => s !== null);
                const avg = scores.length ? scores.reduce((a, b) => a + b, 0) / scores.length : null;
                return (
                  <tr key={model} class="bench-row">
                    <th scope="row">{model}</th>
                    {datasets.map((d) => {
                      const run = cells.get(d);
                      const score = run ? scoreOf(run) : null;
                      return (
                        <td key={d} class="num">
                          {run ? (
                            <a
                              href={href(`/benchmarks/${run.id}`)}
                              title={`${run.name}: ${run.status.toLowerCase()}, ${run.completed}/${run.total} items, ${fmtTime(run.createdAt)}`}
                            >
                              {score === null ? "–" : score.toFixed(1)}
                              {run.status !== "SUCCEEDED" && (
                                <small class="muted"> {run.status === "RUNNING" ? `${run.completed}/${run.total}` : run.status.toLowerCase()}</small>
                              )}
                            </a>
                          ) : (
                            <span class="muted">–</span>
                          )}
                        </td>
                      );
                    })}
                    <td class="num avg">
                      {avg === null ? "–" : avg.toFixed(1)}
                      {avg !== null && scores.length < datasets.length ? "*" : ""}
                    </td>
                  </tr>
                );
              })}
          </tbody>
        </table>
      )}
      <h2>All benchmark runs</h2>
      <table class="table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Status</th>
            <th>Dataset</th>
            <th>Model</th>
            <th class="num">Items</th>
            <th class="num">Score</th>
            <th>Created</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <tr key={r.id}>
              <td>
                <a href={href(`/benchmarks/${r.id}`)}>{r.name}</a>
              </td>
              <td>
                <StatusBadge status={r.status} />
              </td>
              <td>{r.dataset.name}</td>
              <td>{rowKey(r)}</td>
              <td class="num">
                {r.completed}/{r.total}
              </td>
              <td class="num">{scoreOf(r)?.toFixed(1) ?? "–"}</td>
              <td title={r.createdAt}>{fmtTime(r.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
