// Several runs on the same axes: one chart per metric, one line per run. The chosen runs live in
// the URL (#/compare?runs=a,b) so a comparison can be shared.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { errorMessage, useQuery, useSession } from "../lib/api.js";
import { chartedByDefault, orderKeys, PALETTE } from "../lib/metrics.js";
import { navigate, type Route } from "../lib/router.js";
import { fetchSeries } from "../lib/fetch-series.js";
import { DashboardRunsDocument, RunDocument, type RunQuery } from "../lib/sdk.js";
import { alignSeries, type Point } from "../lib/series.js";
import { Chart } from "../components/chart.js";
import { ErrorLine, Loading } from "../components/status.js";

type LoadedRun = NonNullable<RunQuery["run"]> & { series: Record<string, Point[]> };

const comparedKeys = (available: string[]) => orderKeys(available).filter(chartedByDefault);

export function ComparePage({ route }: { route: Route }) {
  const { client } = useSession();
  const ids = (route.query.get("runs") ?? "").split(",").filter(Boolean);
  const idsKey = ids.join(",");
  const [search, setSearch] = useState("");
  const candidates = useQuery(DashboardRunsDocument, { first: 50, filter: { nameContains: search || null }, metricKeys: [] }, [search]);
  const [runs, setRuns] = useState<LoadedRun[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const grid = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!ids.length) {
      setRuns([]);
      return;
    }
    const controller = new AbortController();
    const signal = controller.signal;
    const maxPoints = Math.max(100, Math.min(2000, Math.round((grid.current?.clientWidth ?? 1200) / 2)));
    setRuns(null);
    Promise.all(
      ids.map(async (id) => {
        const run = (await client.query(RunDocument, { id }, { signal })).run;
        if (!run) throw new Error(`Run ${id} does not exist.`);
        const series = await fetchSeries(client, id, comparedKeys(run.metricKeys), maxPoints, signal);
        return { ...run, series };
      }),
    ).then(
      (loaded) => {
        setRuns(loaded);
        setError(null);
      },
      (err) => !signal.aborted && setError(errorMessage(err)),
    );
    return () => controller.abort();
  }, [idsKey]);

  const setIds = (next: string[]) => navigate("/compare", { runs: next.join(",") }, true);
  const keys = useMemo(() => comparedKeys((runs ?? []).flatMap((r) => r.metricKeys)), [runs]);

  return (
    <section>
      <header class="page-header">
        <h1>Compare runs</h1>
      </header>
      <div class="compare-picker">
        <div class="chips">
          {ids.map((id, i) => {
            const run = runs?.find((r) => r.id === id);
            return (
              <span key={id} class="chip run-chip" style={{ borderColor: PALETTE[i % PALETTE.length] }}>
                <i class="swatch" style={{ background: PALETTE[i % PALETTE.length] }} />
                {run ? `${run.name} (${run.experiment.name})` : id}
                <button type="button" aria-label="remove" onClick={() => setIds(ids.filter((x) => x !== id))}>
                  ×
                </button>
              </span>
            );
          })}
          {!ids.length && <span class="muted">Pick two or more runs.</span>}
        </div>
        <label>
          Add run <input type="search" placeholder="name contains…" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
        </label>
        <select
          value=""
          onChange={(e) => {
            const id = e.currentTarget.value;
            if (id && !ids.includes(id)) setIds([...ids, id]);
          }}
        >
          <option value="">choose…</option>
          {candidates.data?.runs.nodes
            .filter((r) => !ids.includes(r.id))
            .map((r) => (
              <option key={r.id} value={r.id}>
                {r.name} · {r.experiment.name} · {r.status.toLowerCase()}
              </option>
            ))}
        </select>
      </div>
      <ErrorLine error={error} />
      <div class="chart-grid" ref={grid}>
        {ids.length > 0 && !runs && !error && <Loading what="Loading series" />}
        {runs &&
          runs.length > 0 &&
          keys.map((key) => {
            const { x, ys } = alignSeries(runs.map((r) => r.series[key] ?? []));
            const lines = runs.map((r, i) => ({ label: r.name, color: PALETTE[i % PALETTE.length], y: ys[i] }));
            return <Chart key={key} title={key} x={x} lines={lines} />;
          })}
      </div>
    </section>
  );
}
