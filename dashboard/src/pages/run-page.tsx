// One run: header (status, step, stage, shots, config) kept live by runUpdated, latest metric
// values and charts kept live by metricsBatch, and the rollout viewer as a second tab.
import { useEffect, useMemo, useState } from "preact/hooks";
import { LIVE_DELAY_MS, useQuery, useSubscription } from "../lib/api.js";
import { createBus } from "../lib/bus.js";
import { fmtNum, fmtTime, shotsLabel } from "../lib/format.js";
import { HEADLINE_KEYS, orderKeys } from "../lib/metrics.js";
import { href } from "../lib/router.js";
import { MetricsBatchDocument, RunDocument, RunUpdatedDocument, type RunFieldsFragment } from "../lib/sdk.js";
import { ErrorLine, Loading, StatusBadge } from "../components/status.js";
import { ConfigSummary } from "./run-config-summary.js";
import { RunCharts, type LivePoint } from "./run-charts.js";
import { RolloutViewer } from "./rollout-viewer.js";

interface Latest {
  step: number;
  value: number;
}

function maxCursor(cursors: string[]): string {
  return cursors.reduce((m, c) => (BigInt(c) > BigInt(m) ? c : m), "0");
}

export function RunPage({ runId, tab }: { runId: string; tab: "charts" | "rollouts" }) {
  const initial = useQuery(RunDocument, { id: runId }, [runId]);
  const loaded = initial.data?.run ?? null;
  const [run, setRun] = useState<RunFieldsFragment | null>(null);
  const [latest, setLatest] = useState<Map<string, Latest>>(new Map());
  const [keys, setKeys] = useState<string[]>(() => orderKeys([]));
  const live = useMemo(() => createBus<LivePoint[]>(), [runId]);

  useEffect(() => {
    if (!loaded) return;
    setRun(loaded);
    setLatest(new Map(loaded.latestMetrics.map((m) => [m.key, { step: m.step, value: m.value }])));
    setKeys(orderKeys(loaded.metricKeys));
  }, [loaded]);

  // Resume both streams from what the first query saw, so nothing logged in between is missed.
  const metricsAfter = loaded ? maxCursor(loaded.latestMetrics.map((m) => m.cursor)) : null;
  useSubscription(RunUpdatedDocument, loaded ? { runId, after: loaded.version } : null, [runId, loaded?.version], (e) => setRun(e.runUpdated.run));
  const liveError = useSubscription(
    MetricsBatchDocument,
    metricsAfter !== null ? { runId, after: metricsAfter, maxDelayMs: LIVE_DELAY_MS } : null,
    [runId, metricsAfter],
    (e) => {
      const points = e.metricsBatch.points;
      setLatest((prev) => {
        const next = new Map(prev);
        for (const p of points) if ((next.get(p.key)?.step ?? -Infinity) <= p.step) next.set(p.key, { step: p.step, value: p.value });
        return next;
      });
      setKeys((prev) => {
        const next = orderKeys([...prev, ...points.map((p) => p.key)]);
        return next.length === prev.length ? prev : next;
      });
      live.emit(points);
    },
  );

  if (initial.error && !run) return <ErrorLine error={initial.error} />;
  if (initial.data && !initial.data.run) return <ErrorLine error={`Run ${runId} does not exist.`} />;
  if (!run) return <Loading what="Loading run" />;

  const headline = [...HEADLINE_KEYS, "tools/valid_calls_per_rollout", "learner/kl"];
  return (
    <section>
      <header class="page-header run-header">
        <div>
          <p class="crumbs">
            <a href={href("/runs")}>Runs</a> / <a href={href("/runs", { experiment: run.experiment.id })}>{run.experiment.name}</a>
          </p>
          <h1>
            {run.name} <StatusBadge status={run.status} />
          </h1>
          <p class="facts">
            <span>
              step <b class="run-step">{run.step}</b>
            </span>
            <span>
              stage <b class="run-stage">{run.stage}</b>
            </span>
            <span>
              <b class="run-shots">{shotsLabel(run.shots)}</b>
            </span>
            {run.curriculum && <span>curriculum {run.curriculum.name}</span>}
            {run.study && (
              <span class="run-study">
                study <a href={href(`/studies/${run.study.id}`)}>{run.study.name}</a> · arm <b>{run.arm}</b> · seed <b>{run.seed}</b>
              </span>
            )}
            {run.parentRun && (
              <span>
                forked from <a href={href(`/runs/${run.parentRun.id}`)}>{run.parentRun.name}</a> @ {run.forkStep}
              </span>
            )}
            <span title={run.createdAt}>created {fmtTime(run.createdAt)}</span>
            {run.finishedAt && <span title={run.finishedAt}>finished {fmtTime(run.finishedAt)}</span>}
          </p>
          {run.error && (
            <p class="error run-failure">
              <b>{run.status === "FAILED" ? "Failed because: " : "Error: "}</b>
              {run.error}
            </p>
          )}
        </div>
        <div class="latest">
          {headline.map((k) => (
            <div key={k} class="latest-metric" data-key={k}>
              <span class="latest-key">{k}</span>
              <span class="latest-value">{fmtNum(latest.get(k)?.value)}</span>
              <span class="muted">{latest.has(k) ? `step ${latest.get(k)!.step}` : ""}</span>
            </div>
          ))}
        </div>
      </header>
      <ConfigSummary config={run.config} />
      <ErrorLine error={liveError && `Live updates stopped: ${liveError}`} />
      <nav class="tabs">
        <a class={tab === "charts" ? "active" : ""} href={href(`/runs/${runId}`)}>
          Charts
        </a>
        <a class={tab === "rollouts" ? "active" : ""} href={href(`/runs/${runId}/rollouts`)}>
          Rollouts
        </a>
        <a href={href("/compare", { runs: runId })}>Compare with…</a>
      </nav>
      {tab === "charts" ? (
        <RunCharts key={runId} runId={runId} keys={keys} live={live} finished={run.finishedAt != null} />
      ) : (
        <RolloutViewer runId={runId} runStep={run.step} />
      )}
    </section>
  );
}
