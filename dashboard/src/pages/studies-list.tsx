// Studies list: every study (or one experiment's), newest first, with its shape (arms × seeds),
// status and progress over its runs. Polled like the runs list, since progress moves while runs train.
import { useEffect } from "preact/hooks";
import { useQuery } from "../lib/api.js";
import { fmtTime } from "../lib/format.js";
import { useCursorPages } from "../lib/paging.js";
import { href, navigate, type Route } from "../lib/router.js";
import { ExperimentsDocument, StudiesDocument } from "../lib/sdk.js";
import { fmtArmsBySeeds } from "../lib/study-format.js";
import { ErrorLine, Loading, Pager, StatusBadge } from "../components/status.js";
import { StudyProgress } from "../components/study-progress.js";

const PAGE_SIZE = 50;
const POLL_MS = 10_000;

export function StudiesList({ route }: { route: Route }) {
  const experimentId = route.query.get("experiment") || null;
  const pages = useCursorPages([experimentId]);
  const experiments = useQuery(ExperimentsDocument, { first: 200 }, []);
  const studies = useQuery(StudiesDocument, { first: PAGE_SIZE, after: pages.after, experimentId }, [experimentId, pages.after]);

  useEffect(() => {
    const timer = setInterval(() => document.visibilityState === "visible" && studies.reload(), POLL_MS);
    return () => clearInterval(timer);
  }, [studies.reload]);

  const connection = studies.data?.studies;
  return (
    <section>
      <header class="page-header">
        <h1>Studies</h1>
        <div class="filters">
          <label>
            Experiment{" "}
            <select value={experimentId ?? ""} onChange={(e) => navigate("/studies", { experiment: e.currentTarget.value || null }, true)}>
              <option value="">all</option>
              {experiments.data?.experiments.nodes.map((x) => (
                <option key={x.id} value={x.id}>
                  {x.name}
                </option>
              ))}
            </select>
          </label>
          {experimentId && <a href={href("/runs", { experiment: experimentId })}>Runs of this experiment</a>}
        </div>
      </header>
      <ErrorLine error={studies.error} />
      {!connection && studies.loading && <Loading what="Loading studies" />}
      {connection && (
        <>
          <table class="table studies-table">
            <thead>
              <tr>
                <th>Study</th>
                <th>Experiment</th>
                <th class="num">Arms × seeds</th>
                <th>Status</th>
                <th>Progress</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {connection.nodes.map((s) => (
                <tr key={s.id} data-study-id={s.id}>
                  <td>
                    <a class="study-name" href={href(`/studies/${s.id}`)}>
                      {s.name}
                    </a>
                    {s.description && <div class="muted study-description">{s.description}</div>}
                  </td>
                  <td>
                    <a class="study-experiment" href={href("/runs", { experiment: s.experiment.id })}>
                      {s.experiment.name}
                    </a>
                  </td>
                  <td class="num study-shape" title={s.arms.map((a) => a.name).join(", ")}>
                    {fmtArmsBySeeds(s.arms.length, s.seeds.length)}
                  </td>
                  <td>
                    <StatusBadge status={s.status} />
                  </td>
                  <td>
                    <StudyProgress progress={s.progress} />
                  </td>
                  <td title={s.createdAt}>{fmtTime(s.createdAt)}</td>
                </tr>
              ))}
              {connection.nodes.length === 0 && (
                <tr>
                  <td colSpan={6} class="muted">
                    No studies{experimentId ? " in this experiment" : ""} yet. Create one with <code>icrl study create -f study.yaml</code> or the
                    API's createStudy.
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
