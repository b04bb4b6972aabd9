// One benchmark run: its aggregate scores (live while it runs) and every item with prediction,
// gold answers, score and the trajectory that produced it.
import { useState } from "preact/hooks";
import { useQuery, useSubscription } from "../lib/api.js";
import { basename, fmtNum, fmtTime } from "../lib/format.js";
import { useCursorPages } from "../lib/paging.js";
import { href } from "../lib/router.js";
import { BenchmarkProgressDocument, BenchmarkRunDocument, type BenchmarkItemFieldsFragment, type BenchmarkRunFieldsFragment } from "../lib/sdk.js";
import { Segments } from "../components/segments.js";
import { ErrorLine, Loading, Pager, StatusBadge } from "../components/status.js";
import { scoreOf } from "./benchmarks.js";

const PAGE_SIZE = 50;
type ScoreFilter = "all" | "correct" | "wrong";

export function BenchmarkDetail({ id }: { id: string }) {
  const [scoreFilter, setScoreFilter] = useState<ScoreFilter>("all");
  const pages = useCursorPages([id, scoreFilter]);
  const bounds = scoreFilter === "correct" ? { minScore: 1 } : scoreFilter === "wrong" ? { maxScore: 0.999999 } : {};
  const q = useQuery(BenchmarkRunDocument, { id, first: PAGE_SIZE, after: pages.after, ...bounds }, [id, pages.after, scoreFilter]);
  const [live, setLive] = useState<BenchmarkRunFieldsFragment | null>(null);
  const loaded = q.data?.benchmarkRun ?? null;
  useSubscription(
    BenchmarkProgressDocument,
    loaded && loaded.status !== "SUCCEEDED" ? { benchmarkRunId: id, after: null } : null,
    [id, !!loaded],
    (e) => setLive(e.benchmarkProgress.benchmarkRun),
  );

  if (q.error && !loaded) return <ErrorLine error={q.error} />;
  if (q.data && !loaded) return <ErrorLine error={`Benchmark run ${id} does not exist.`} />;
  if (!loaded) return <Loading what="Loading benchmark run" />;
  const run = live && live.version >= loaded.version ? live : loaded;
  const agg = (run.aggregate ?? {}) as Record<string, unknown>;
  const score = scoreOf(run);

  return (
    <section>
      <header class="page-header">
        <div>
          <p class="crumbs">
            <a href={href("/benchmarks")}>Benchmarks</a>
          </p>
          <h1>
            {run.name} <StatusBadge status={run.status} />
          </h1>
          <p class="facts">
            <span>{run.dataset.name}</span>
            <span>{basename(run.model)}</span>
            {run.adapterArtifact && (
              <span>
                adapter {run.adapterArtifact.name} @ step {run.adapterArtifact.step ?? "?"}
              </span>
            )}
            <span>
              {run.completed}/{run.total} items
            </span>
            <span title={run.createdAt}>created {fmtTime(run.createdAt)}</span>
          </p>
          {run.error && <p class="error">{run.error}</p>}
        </div>
        <div class="latest">
          <div class="latest-metric">
            <span class="latest-key">score ×100</span>
            <span class="latest-value">{score === null ? "–" : score.toFixed(1)}</span>
          </div>
          {Object.entries(agg)
            .filter(([k, v]) => k !== "em" && typeof v === "number")
            .map(([k, v]) => (
              <div key={k} class="latest-metric">
                <span class="latest-key">{k}</span>
                <span class="latest-value">{fmtNum(v as number)}</span>
              </div>
            ))}
        </div>
      </header>
      <div class="filters">
        {(["all", "correct", "wrong"] as const).map((f) => (
          <label key={f}>
            <input type="radio" name="score" checked={scoreFilter === f} onChange={() => setScoreFilter(f)} /> {f}
          </label>
        ))}
      </div>
      <ErrorLine error={q.error} />
      <table class="table items-table">
        <thead>
          <tr>
            <th class="num">#</th>
            <th>Question</th>
            <th>Prediction</th>
            <th>Gold</th>
            <th class="num">Score</th>
          </tr>
        </thead>
        <tbody>
          {loaded.items.nodes.map((item) => (
            <ItemRow key={item.id} item={item} />
          ))}
        </tbody>
      </table>
      <Pager
        page={pages.page}
        pageSize={PAGE_SIZE}
        total={loaded.items.totalCount}
        hasNext={loaded.items.pageInfo.hasNextPage}
        onPrev={pages.prev}
        onNext={() => pages.next(loaded.items.pageInfo.endCursor)}
      />
    </section>
  );
}

function ItemRow({ item }: { item: BenchmarkItemFieldsFragment }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <tr class={`item-row ${item.score >= 1 ? "correct" : "wrong"}`} onClick={() => setOpen(!open)} title="Show the trajectory">
        <td class="num">{item.itemIndex}</td>
        <td>{item.question}</td>
        <td class="prediction">{item.prediction || <span class="muted">(empty)</span>}</td>
        <td>{item.golds.join(" | ")}</td>
        <td class="num">{fmtNum(item.score)}</td>
      </tr>
      {open && (
        <tr class="item-detail">
          <td colSpan={5}>
            <Segments segments={item.trajectory} />
          </td>
        </tr>
      )}
    </>
  );
}
