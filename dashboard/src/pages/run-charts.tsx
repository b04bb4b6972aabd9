// The run's metric charts. Series come from metricSeries at about one point per pixel (downsampled
// buckets keep min/max, drawn as a band); live points from the run page's stream are appended.
// Points that arrive while a fetch is in flight are buffered and merged after it, and merging is
// idempotent, so the overlap between fetch and stream neither loses nor doubles a point.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { errorMessage, useSession } from "../lib/api.js";
import type { Bus } from "../lib/bus.js";
import { CURRICULUM_KEYS } from "../lib/metrics.js";
import { MetricSeriesColumnsDocument } from "../lib/sdk.js";
import { mergePoints, pointsFromColumns, stageBoundaries, type Point } from "../lib/series.js";
import { Chart, type ChartLine } from "../components/chart.js";
import { ErrorLine, Loading } from "../components/status.js";
import { fmtNum } from "../lib/format.js";

export interface LivePoint {
  key: string;
  step: number;
  value: number;
}

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

export function RunCharts({ runId, keys, live }: { runId: string; keys: string[]; live: Bus<LivePoint[]> }) {
  const { client } = useSession();
  const grid = useRef<HTMLDivElement>(null);
  const [maxPoints, setMaxPoints] = useState<number | null>(null);
  const [series, setSeries] = useState<SeriesMap | null>(null);
  const [error, setError] = useState<string | null>(null);
  const keysId = keys.join("|");

  // About one point per pixel of a chart (two charts per row on wide screens).
  useEffect(() => {
    const width = grid.current?.clientWidth ?? 1200;
    setMaxPoints(Math.max(100, Math.min(4000, Math.round(width >= 900 ? width / 2 : width))));
  }, []);

  useEffect(() => {
    if (maxPoints === null) return;
    let buffer: LivePoint[] | null = [];
    const off = live.on((points) => {
      if (buffer) buffer.push(...points);
      else setSeries((s) => (s ? mergeInto(s, points) : s));
    });
    const controller = new AbortController();
    const opts = { signal: controller.signal };
    Promise.all([
      client.query(MetricSeriesColumnsDocument, { runId, keys, maxPoints }, opts),
      // Stage changes must land on their exact step: these two are small, ask for every point.
      client.query(MetricSeriesColumnsDocument, { runId, keys: CURRICULUM_KEYS, maxPoints: 10_000 }, opts),
    ]).then(
      ([charts, curriculum]) => {
        const fetched: SeriesMap = {};
        for (const s of [...charts.metricSeries, ...curriculum.metricSeries]) fetched[s.key] = pointsFromColumns(s.columns);
        setSeries(mergeInto(fetched, buffer ?? []));
        buffer = null;
      },
      (err) => !controller.signal.aborted && setError(errorMessage(err)),
    );
    return () => {
      off();
      controller.abort();
    };
  }, [runId, keysId, maxPoints]);

  const boundaries = useMemo(
    () => (series ? stageBoundaries(series["curriculum/stage"] ?? [], series["curriculum/shots"] ?? []) : []),
    [series?.["curriculum/stage"], series?.["curriculum/shots"]],
  );

  return (
    <div class="chart-grid" ref={grid}>
      <ErrorLine error={error} />
      {!series && !error && <Loading what="Loading metrics" />}
      {series && keys.map((key) => <KeyChart key={key} name={key} points={series[key] ?? []} boundaries={boundaries} />)}
    </div>
  );
}

function KeyChart({ name, points, boundaries }: { name: string; points: Point[]; boundaries: ReturnType<typeof stageBoundaries> }) {
  const { x, lines } = useMemo(() => linesFor(name, points), [name, points]);
  // Downsampled: say so, with the true range, which the bucket means alone would understate.
  const note = useMemo(() => {
    if (!points.some((p) => p.count > 1)) return undefined;
    const lo = Math.min(...points.map((p) => p.min));
    const hi = Math.max(...points.map((p) => p.max));
    return `bucket min–max shaded · range ${fmtNum(lo)} … ${fmtNum(hi)}`;
  }, [points]);
  return <Chart title={name} x={x} lines={lines} boundaries={boundaries} note={note} />;
}
