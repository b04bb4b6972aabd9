// Runs list: one page of runs at a time (cursor pagination keeps it fast with thousands of runs),
// filtered by experiment and status, with each run's latest headline metrics.
import { useEffect, useState } from "preact/hooks";
import { useQuery } from "../lib/api.js";
import { DashboardRunsDocument, ExperimentsDocument, type RunStatus } from "../lib/sdk.js";
import { fmtNum, fmtTime, shotsLabel } from "../lib/format.js";
import { HEADLINE_KEYS } from "../lib/metrics.js";
import { useCursorPages } from "../lib/paging.js";
import { href, navigate, type Route } from "../lib/router.js";
import { ErrorLine, Loading, Pager, StatusBadge } from "../components/status.js";

const PAGE_SIZE = 50;
const STATUSES: RunStatus[] = ["QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"];
const POLL_MS = 10_000;

export function RunsList({ route }: { route: Route }) {
  const experimentId = route.query.get("experiment") || null;
  const status = (route.query.get("status") || null) as RunStatus | null;
  const pages = useCursorPages([experimentId, status]);
  const [selected, setSelected] = useState<string[]>([]);

  const experiments = useQuery(ExperimentsDocument, { first: 200 }, []);
  const runs = useQuery(
    DashboardRunsDocument,
    { first: PAGE_SIZE, after: pages.after, filter: { experimentId, status: status ? [status] : null }, metricKeys: HEADLINE_KEYS },
    [experimentId, status, pages.after],
  );

  // Status and step change while runs train: refresh the visible page now and then.
  useEffect(() => {
    const timer = setInterval(() => document.visibilityState === "visible" && runs.reload(), POLL_MS);
    return () => clearInterval(timer);
  }, [runs.reload]);

  const setFilter = (patch: Record<string, string | null>) => navigate("/runs", { experiment: experimentId, status, ...patch }, true);
  const toggle = (id: string) => setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s, id]));
  const connection = runs.data?.runs;

  return (
    <section>
      <header class="page-header">
        <h1>Runs</h1>
        <div class="filters">
          <label>
            Experiment{" "}
            <select value={experimentId ?? ""} onChange={(e) => setFilter({ experiment: e.currentTarget.value || null })}>
              <option value="">all</option>
              {experiments.data?.experiments.nodes.map((x) => (
                <option key={x.id} value={x.id}>
                  {x.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Status{" "}
            <select value={status ?? ""} onChange={(e) => setFilter({ status: e.currentTarget.value || null })}>
              <option value="">all</option>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s.toLowerCase()}
                </option>
              ))}
            </select>
          </label>
          {experimentId && (
            <a class="experiment-studies" href={href("/studies", { experiment: experimentId })}>
              Studies of this experiment
            </a>
          )}
          <a
            class={`button${selected.length < 2 ? " disabled" : ""}`}
            href={selected.length >= 2 ? href("/compare", { runs: selected.join(",") }) : undefined}
          >
            Compare selected ({selected.length})
          </a>
        </div>
      </header>
      <ErrorLine error={runs.error} />
      {!connection && runs.loading && <Loading what="Loading runs" />}
      {connection && (
        <>
          <table class="table runs-table">
            <thead>
              <tr>
                <th />
                <th>Run</th>
                <th>Status</th>
                <th>Experiment</th>
                <th>Stage / shots</th>
                <th class="num">Step</th>
                {HEADLINE_KEYS.map((k) => (
                  <th key={k} class="num">
                    {k}
                  </th>
                ))}
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {connection.nodes.map((run) => {
                const latest = new Map(run.latestMetrics.map((m) => [m.key, m.value]));
                return (
                  <tr key={run.id} data-run-id={run.id}>
                    <td>
                      <input type="checkbox" aria-label={`select ${run.name}`} checked={selected.includes(run.id)} onChange={() => toggle(run.id)} />
                    </td>
                    <td>
                      <a href={href(`/runs/${run.id}`)}>{run.name}</a>
                    </td>
                    <td>
                      <StatusBadge status={run.status} />
                    </td>
                    <td>
                      <a href={href("/runs", { experiment: run.experiment.id })}>{run.experiment.name}</a>
                    </td>
                    <td>
                      {run.stage} · {shotsLabel(run.shots)}
                    </td>
                    <td class="num">{run.step}</td>
                    {HEADLINE_KEYS.map((k) => (
                      <td key={k} class="num">
                        {fmtNum(latest.get(k))}
                      </td>
                    ))}
                    <td title={run.createdAt}>{fmtTime(run.createdAt)}</td>
                  </tr>
                );
              })}
              {connection.nodes.length === 0 && (
                <tr>
                  <td colSpan={9} class="muted">
                    No runs match these filters.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
          <Pager
            page={pages.page}
            pageSize={PAGE_SIZE}
            total={connection.totalCount}
            hasNext={connection.pageInfo.hasNextPage}
            onPrev={pages.prev}
            onNext={() => pages.next(connection.pageInfo.endCursor)}
          />
        </>
      )}
    </section>
  );
}
