// The run's metric charts. Series come from metricSeries at about one point per pixel (downsampled
// buckets keep min/max, drawn as a band); live points from the run page's stream are appended.
// Points that arrive while a fetch is in flight are buffered and merged after it, and merging is
// idempotent, so the overlap between fetch and stream neither loses nor doubles a point. Series are
// fetched once per key: picking another metric fetches that one alone.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { errorMessage, useSession } from "../lib/api.js";
import type { Bus } from "../lib/bus.js";
import { fetchSeries } from "../lib/fetch-series.js";
import { chartedByDefault, CURRICULUM_KEYS } from "../lib/metrics.js";
import type { MetricsBatchSubscription } from "../lib/sdk.js";
import { mergePoints, stageBoundaries, type Point } from "../lib/series.js";
import { Chart, type ChartLine } from "../components/chart.js";
import { MetricPicker } from "../components/metric-picker.js";
import { ErrorLine, Loading } from "../components/status.js";
import { fmtNum } from "../lib/format.js";

export type LivePoint = Pick<MetricsBatchSubscription["metricsBatch"]["points"][number], "key" | "step" | "value">;

type SeriesMap = Record<string, Point[]>;

function mergeInto(series: SeriesMap, points: LivePoint[]): SeriesMap {
  const byKey = new Map<string, LivePoint[]>();
  for (const p of points) if (series[p.key]) byKey.set(p.key, [...(byKey.get(p.key) ?? []), p]);
  if (!byKey.size) return series;
  const out = { ...series };
  for (const [key, pts] of byKey) out[key] = mergePoints(out[key], pts);
  return out;
}

function linesFor(key: string, points: Point[]): { x: number[]; lines: ChartLine[] } {
  const banded = points.some((p) => p.count > 1);
  return {
    x: points.map((p) => p.step),
    lines: [
      {
        label: key,
        color: "#2563eb",
        y: points.map((p) => p.value),
        ...(banded ? { min: points.map((p) => p.min), max: points.map((p) => p.max) } : {}),
      },
    ],
  };
}

/**
 * `keys`: every metric the run has (and the standard ones it will have), in display order.
 * `finished`: the run has stopped, so an empty chart will stay empty.
 */
export function RunCharts({ runId, keys, live, finished }: { runId: string; keys: string[]; live: Bus<LivePoint[]>; finished: boolean }) {
  const { client } = useSession();
  const grid = useRef<HTMLDivElement>(null);
  const [maxPoints, setMaxPoints] = useState<number | null>(null);
  const [picked, setPicked] = useState<Map<string, boolean>>(new Map());
  const [series, setSeries] = useState<SeriesMap | null>(null);
  const [error, setError] = useState<string | null>(null);
  const shown = useMemo(() => keys.filter((k) => picked.get(k) ?? chartedByDefault(k)), [keys, picked]);
  const fetched = useRef(new Set<string>());
  const shownId = shown.join("|");

  // About one point per pixel of a chart (two charts per row on wide screens).
  useEffect(() => {
    const width = grid.current?.clientWidth ?? 1200;
    setMaxPoints(Math.max(100, Math.min(4000, Math.round(width >= 900 ? width / 2 : width))));
  }, []);

  useEffect(() => live.on((points) => setSeries((s) => (s ? mergeInto(s, points) : s))), [live]);

  useEffect(() => {
    if (maxPoints === null) return;
    // Stage changes must land on their exact step: the curriculum series are small, ask for every point.
    const curriculum = CURRICULUM_KEYS.filter((k) => !fetched.current.has(k));
    const missing = shown.filter((k) => !fetched.current.has(k) && !curriculum.includes(k));
    if (!missing.length && !curriculum.length) return;
    let buffer: LivePoint[] = [];
    const off = live.on((points) => buffer.push(...points));
    const controller = new AbortController();
    Promise.all([
      fetchSeries(client, runId, missing, maxPoints, controller.signal),
      fetchSeries(client, runId, curriculum, 10_000, controller.signal),
    ]).then(
      ([charts, stages]) => {
        off();
        for (const k of [...missing, ...curriculum]) fetched.current.add(k);
        const arrived = buffer;
        buffer = [];
        setSeries((s) => mergeInto({ ...s, ...charts, ...stages }, arrived));
        setError(null);
      },
      (err) => {
        off();
        if (!controller.signal.aborted) setError(errorMessage(err));
      },
    );
    return () => {
      off();
      controller.abort();
    };
  }, [runId, shownId, maxPoints]);

  const boundaries = useMemo(
    () => (series ? stageBoundaries(series["curriculum/stage"] ?? [], series["curriculum/shots"] ?? []) : []),
    [series?.["curriculum/stage"], series?.["curriculum/shots"]],
  );

  const toggle = (key: string, on: boolean) => setPicked((p) => new Map(p).set(key, on));

  return (
    <div>
      <MetricPicker keys={keys} shown={shown} onToggle={toggle} />
      <div class="chart-grid" ref={grid}>
        <ErrorLine error={error} />
        {!series && !error && <Loading what="Loading metrics" />}
        {series &&
          shown.map((key) => (
            <KeyChart
              key={key}
              name={key}
              points={series[key] ?? []}
              boundaries={boundaries}
              empty={!(key in series) ? "loading…" : finished ? "no data logged" : "no data yet"}
            />
          ))}
      </div>
    </div>
  );
}

function KeyChart({
  name,
  points,
  boundaries,
  empty,
}: {
  name: string;
  points: Point[];
  boundaries: ReturnType<typeof stageBoundaries>;
  empty: string;
}) {
  const { x, lines } = useMemo(() => linesFor(name, points), [name, points]);
  // Downsampled: say so, with the true range, which the bucket means alone would understate.
  const note = useMemo(() => {
    if (!points.some((p) => p.count > 1)) return undefined;
    const lo = Math.min(...points.map((p) => p.min));
    const hi = Math.max(...points.map((p) => p.max));
    return `bucket min–max shaded · range ${fmtNum(lo)} … ${fmtNum(hi)}`;
  }, [points]);
  return <Chart title={name} x={x} lines={lines} boundaries={boundaries} note={note} empty={empty} />;
}
