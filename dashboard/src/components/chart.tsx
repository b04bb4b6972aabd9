// A uPlot chart: one mean line per series, optionally with a band behind it (the min–max of
// downsampled buckets, so a spike inside a bucket stays visible; a study's 95% interval over
// seeds), and curriculum stage boundaries drawn as labelled vertical lines. The labels are DOM
// elements on uPlot's overlay, readable and testable.
// Without points there is no uPlot at all, only an empty state: uPlot cannot scale an empty axis
// (it throws, and the broken instance then ignores later data), so the plot is built on the first
// point, live or fetched.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import type { StageBoundary } from "../lib/series.js";
import { shotsLabel } from "../lib/format.js";

export interface ChartLine {
  label: string;
  color: string;
  y: (number | null)[];
  /** Bucket minima and maxima; drawn as a band behind the line. */
  min?: (number | null)[];
  max?: (number | null)[];
  /** What the band's upper and lower edges are called in the legend's data (default "max", "min"). */
  bandLabels?: [string, string];
}

export interface ChartProps {
  title: string;
  x: number[];
  lines: ChartLine[];
  boundaries?: StageBoundary[];
  height?: number;
  /** Extra text beside the title (e.g. "downsampled"). */
  note?: string;
  /** What the plot area says while there are no points. */
  empty?: string;
}

function withAlpha(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  return m ? `rgba(${parseInt(m[1], 16)}, ${parseInt(m[2], 16)}, ${parseInt(m[3], 16)}, ${alpha})` : color;
}

/** The uPlot series/bands layout; charts are rebuilt only when this changes, otherwise setData. */
function layoutKey(lines: ChartLine[]): string {
  return lines.map((l) => `${l.label}|${l.color}|${l.min ? "band" : ""}`).join(";");
}

// Steps are whole numbers: ticks at 1, 2, 5, 10, 20, 50... never at 1.5.
const STEP_TICKS = Array.from({ length: 8 }, (_, k) => [1, 2, 5].map((m) => m * 10 ** k)).flat();

const fmtValue = (_u: uPlot, v: number | null) => (v == null ? "–" : v.toPrecision(4));

function buildOptions(lines: ChartLine[], width: number, height: number, boundaries: { current: StageBoundary[] }): uPlot.Options {
  const series: uPlot.Series[] = [{ label: "step" }];
  const bands: uPlot.Band[] = [];
  for (const line of lines) {
    if (line.min && line.max) {
      const edge = { stroke: withAlpha(line.color, 0.35), width: 1, class: "band-edge", points: { show: false }, spanGaps: true, value: fmtValue };
      const [high, low] = line.bandLabels ?? ["max", "min"];
      series.push({ ...edge, label: `${line.label} ${high}` }, { ...edge, label: `${line.label} ${low}` });
      bands.push({ series: [series.length - 2, series.length - 1], fill: withAlpha(line.color, 0.15) });
    }
    series.push({ label: line.label, stroke: line.color, width: 1.5, spanGaps: true, value: fmtValue });
  }
  return {
    width,
    height,
    series,
    bands,
    scales: { x: { time: false } },
    axes: [{ label: "step", labelSize: 20, incrs: STEP_TICKS }, { size: 56 }],
    legend: { live: true },
    cursor: { drag: { x: true, y: false } },
    plugins: [boundaryPlugin(boundaries)],
  };
}

function chartData(x: number[], lines: ChartLine[]): uPlot.AlignedData {
  const data: (number | null)[][] = [x];
  for (const line of lines) {
    if (line.min && line.max) data.push(line.max, line.min);
    data.push(line.y);
  }
  return data as uPlot.AlignedData;
}

function boundaryPlugin(boundaries: { current: StageBoundary[] }): uPlot.Plugin {
  let layer: HTMLDivElement | null = null;
  return {
    hooks: {
      init: (u) => {
        layer = document.createElement("div");
        layer.className = "stage-layer";
        u.over.appendChild(layer);
      },
      draw: (u) => {
        if (!layer) return;
        layer.replaceChildren();
        const [lo, hi] = [u.scales.x.min ?? -Infinity, u.scales.x.max ?? Infinity];
        // Labels closer than a label's width drop a row, so boundaries bunched together on a
        // long run stay readable.
        const rowEnds: number[] = [];
        for (const b of boundaries.current) {
          if (b.step < lo || b.step > hi) continue;
          const left = u.valToPos(b.step, "x");
          // Near the right edge the label goes on the line's left so it stays inside the plot.
          const flip = left > u.over.clientWidth - 60;
          const start = flip ? left - 52 : left;
          let row = rowEnds.findIndex((end) => start >= end);
          if (row < 0) row = rowEnds.length;
          rowEnds[row] = start + 52;
          const mark = document.createElement("div");
          mark.className = `stage-boundary${b.initial ? " initial" : ""}${flip ? " flip" : ""}`;
          mark.style.left = `${left}px`;
          mark.dataset.step = String(b.step);
          const label = document.createElement("span");
          label.className = "stage-label";
          label.style.top = `${2 + row * 15}px`;
          label.textContent = b.shots === null ? `stage ${b.stage}` : shotsLabel(b.shots);
          label.title = `stage ${b.stage} from step ${b.step}`;
          mark.appendChild(label);
          layer.appendChild(mark);
        }
      },
    },
  };
}

export function Chart({ title, x, lines, boundaries = [], height = 220, note, empty = "no data yet" }: ChartProps) {
  const holder = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const layout = useRef("");
  const boundaryRef = useRef<StageBoundary[]>(boundaries);
  boundaryRef.current = boundaries;
  const points = x.length;

  useEffect(() => {
    const el = holder.current;
    if (!el) return;
    if (points === 0) {
      plot.current?.destroy();
      plot.current = null;
      layout.current = "";
      return;
    }
    const key = layoutKey(lines);
    if (!plot.current || layout.current !== key) {
      plot.current?.destroy();
      layout.current = key;
      plot.current = new uPlot(buildOptions(lines, Math.max(200, el.clientWidth), height, boundaryRef), chartData(x, lines), el);
    } else {
      plot.current.setData(chartData(x, lines));
    }
  }, [x, lines, height]);

  useEffect(() => {
    plot.current?.redraw(false, false);
  }, [boundaries]);

  useEffect(() => {
    const el = holder.current;
    if (!el) return;
    const observer = new ResizeObserver(() => {
      const width = Math.max(200, el.clientWidth);
      if (plot.current && Math.abs(plot.current.width - width) > 1) plot.current.setSize({ width, height });
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);

  return (
    <figure class="chart" data-title={title} data-points={points}>
      <figcaption>
        <span class="chart-title">{title}</span>
        {note && <span class="chart-note">{note}</span>}
      </figcaption>
      {points === 0 && (
        <div class="chart-empty" style={{ height: `${height}px` }}>
          {empty}
        </div>
      )}
      <div class="chart-plot" ref={holder} hidden={points === 0} />
    </figure>
  );
}
