// One study: header (status and progress kept live by studyUpdated), a metric and point picker,
// per-arm mean curves with 95% bands and stage boundaries, the summary table and the runs. Every
// studyUpdated event refreshes the study, its summary and its curves, throttled: a training step
// logs many metrics, and the server already coalesces them into a few events a second.
import { useEffect, useMemo, useState } from "preact/hooks";
import { useQuery, useSubscription } from "../lib/api.js";
import { fmtTime } from "../lib/format.js";
import { PALETTE } from "../lib/metrics.js";
import { href, navigate, type Route } from "../lib/router.js";
import {
  StudyCurvesDocument,
  StudyDocument,
  StudySummaryDocument,
  StudyUpdatedDocument,
  type StudyFieldsFragment,
  type StudyPoint,
} from "../lib/sdk.js";
import { curveBoundaries, curveLines, stageShots } from "../lib/study-curves.js";
import { fmtArmsBySeeds } from "../lib/study-format.js";
import { useThrottled } from "../lib/throttle.js";
import { Chart } from "../components/chart.js";
import { ErrorLine, Loading, StatusBadge } from "../components/status.js";
import { StudyProgress } from "../components/study-progress.js";
import { StudyRunsTable } from "./study-runs-table.js";
import { StudySummaryTable } from "./study-summary-table.js";

const REFRESH_MS = 1000;
const CURVE_POINTS = 400;
const DEFAULT_METRIC = "val/accuracy";
const TERMINAL = ["SUCCEEDED", "FAILED", "CANCELLED"];

const POINTS: { value: StudyPoint; label: string }[] = [
  { value: "FINAL", label: "final" },
  { value: "BEST", label: "best" },
];

function pointSays(at: StudyPoint, lowerIsBetter: boolean): string {
  if (at === "FINAL") return "each run's last value (its latest while it runs)";
  return `each run's ${lowerIsBetter ? "lowest" : "highest"} value`;
}

/** val/accuracy when some run logged it, else the first key; null before any metric. */
export function defaultMetric(keys: string[]): string | null {
  return keys.includes(DEFAULT_METRIC) ? DEFAULT_METRIC : (keys[0] ?? null);
}

export function StudyPage({ studyId, route }: { studyId: string; route: Route }) {
  const study = useQuery(StudyDocument, { id: studyId }, [studyId]);
  const loaded = study.data?.study ?? null;
  const keys = loaded?.metricKeys ?? [];
  const metric = route.query.get("metric") || defaultMetric(keys);
  const at: StudyPoint = route.query.get("at") === "best" ? "BEST" : "FINAL";
  // Which end is best depends on the metric (accuracy up, loss or KL down): the reader says.
  const lowerIsBetter = at === "BEST" && route.query.get("lower") === "1";

  const summary = useQuery(StudySummaryDocument, metric ? { id: studyId, metric, at, higherIsBetter: !lowerIsBetter } : null, [
    studyId,
    metric,
    at,
    lowerIsBetter,
  ]);
  const curves = useQuery(StudyCurvesDocument, metric ? { id: studyId, metric, maxPoints: CURVE_POINTS } : null, [studyId, metric]);

  // Status and progress from whichever came last: the study query or a live event.
  const [header, setHeader] = useState<StudyFieldsFragment | null>(null);
  useEffect(() => {
    if (loaded) setHeader(loaded);
  }, [loaded]);
  const refresh = useThrottled(() => {
    study.reload();
    summary.reload();
    curves.reload();
  }, REFRESH_MS);
  const liveError = useSubscription(StudyUpdatedDocument, { studyId }, [studyId], (e) => {
    setHeader(e.studyUpdated.study);
    refresh();
  });

  const colorOf = useMemo(() => {
    const index = new Map((loaded?.arms ?? []).map((a, i) => [a.name, i]));
    return (arm: string) => PALETTE[(index.get(arm) ?? 0) % PALETTE.length];
  }, [loaded?.arms.map((a) => a.name).join("\n")]);

  if (study.error && !loaded) return <ErrorLine error={study.error} />;
  if (study.data && !loaded) return <ErrorLine error={`Study ${studyId} does not exist.`} />;
  if (!loaded || !header) return <Loading what="Loading study" />;

  const pick = (patch: Record<string, string | null>) =>
    navigate(
      `/studies/${studyId}`,
      { metric: route.query.get("metric"), at: route.query.get("at"), lower: route.query.get("lower"), ...patch },
      true,
    );
  const finished = TERMINAL.includes(header.status);

  return (
    <section class="study-page">
      <header class="page-header study-header">
        <div>
          <p class="crumbs">
            <a href={href("/studies")}>Studies</a> / <a href={href("/studies", { experiment: loaded.experiment.id })}>{loaded.experiment.name}</a>
          </p>
          <h1>
            {header.name} <StatusBadge status={header.status} />
          </h1>
          {header.description && <p class="study-description">{header.description}</p>}
          <p class="facts">
            <span>
              <b>{fmtArmsBySeeds(header.arms.length, header.seeds.length)}</b> arms × seeds
            </span>
            <span>
              arms{" "}
              {header.arms.map((a) => (
                <span key={a.name} class="arm-name">
                  <i class="swatch" style={{ background: colorOf(a.name) }} /> {a.name}{" "}
                </span>
              ))}
            </span>
            <span>
              baseline <b>{header.baselineArm}</b>
            </span>
            <span>seeds {header.seeds.join(", ")}</span>
            <span title={header.createdAt}>created {fmtTime(header.createdAt)}</span>
            {header.cancelledAt && <span title={header.cancelledAt}>cancelled {fmtTime(header.cancelledAt)}</span>}
          </p>
        </div>
        <StudyProgress progress={header.progress} />
      </header>
      <ErrorLine error={liveError && `Live updates stopped: ${liveError}`} />

      <div class="filters study-pickers">
        <label>
          Metric{" "}
          <select class="metric-select" value={metric ?? ""} disabled={!keys.length} onChange={(e) => pick({ metric: e.currentTarget.value })}>
            {!keys.length && <option value="">no metric yet</option>}
            {metric && !keys.includes(metric) && <option value={metric}>{metric}</option>}
            {keys.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </label>
        <label>
          Point{" "}
          <select
            class="point-select"
            value={at}
            onChange={(e) => pick(e.currentTarget.value === "BEST" ? { at: "best" } : { at: null, lower: null })}
          >
            {POINTS.map((p) => (
              <option key={p.value} value={p.value}>
                {p.label}
              </option>
            ))}
          </select>
        </label>
        {at === "BEST" && (
          <label>
            <input
              type="checkbox"
              class="lower-is-better"
              checked={lowerIsBetter}
              onChange={(e) => pick({ lower: e.currentTarget.checked ? "1" : null })}
            />{" "}
            lower is better
          </label>
        )}
        <span class="muted point-says">{pointSays(at, lowerIsBetter)}</span>
      </div>

      {!metric ? (
        <p class="muted study-empty">No run has logged a metric yet{finished ? "" : "; the curves and the summary appear with the first one"}.</p>
      ) : (
        <>
          <ErrorLine error={curves.error} />
          <StudyCurves metric={metric} curves={curves.data?.study?.curves ?? null} study={loaded} finished={finished} colorOf={colorOf} />
          <h2>Summary</h2>
          <ErrorLine error={summary.error} />
          {summary.data?.study ? (
            <StudySummaryTable summary={summary.data.study.summary} baseline={header.baselineArm} colorOf={colorOf} />
          ) : (
            !summary.error && <Loading what="Loading summary" />
          )}
        </>
      )}

      <h2>Runs</h2>
      <StudyRunsTable runs={loaded.runs} colorOf={colorOf} />
    </section>
  );
}

function StudyCurves({
  metric,
  curves,
  study,
  finished,
  colorOf,
}: {
  metric: string;
  curves: Parameters<typeof curveLines>[0] | null;
  study: Pick<StudyFieldsFragment, "baseConfig" | "arms">;
  finished: boolean;
  colorOf(arm: string): string;
}) {
  const { x, lines } = useMemo(() => curveLines(curves ?? [], colorOf), [curves, colorOf]);
  const boundaries = useMemo(() => curveBoundaries(curves ?? [], stageShots(study.baseConfig, study.arms)), [curves, study]);
  return (
    <div class="study-chart">
      <Chart
        title={metric}
        x={x}
        lines={lines}
        boundaries={boundaries}
        height={300}
        note="mean over seeds · 95% CI shaded"
        empty={curves === null ? "loading…" : finished ? "no data logged" : "no data yet"}
      />
    </div>
  );
}
