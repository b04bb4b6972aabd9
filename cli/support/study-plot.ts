// The figure of `icrl study plot`: each arm's mean curve with its confidence band, curriculum stage
// boundaries as dashed rules. Declared in Vega-Lite (a spec anyone can open in the Vega editor and
// restyle), rendered to SVG by Vega in Node and to PNG by resvg; nothing is drawn by hand.
import type { StudyCurveFieldsFragment } from "../../client-sdk/src/index.js";

export type FigureFormat = "svg" | "png" | "vl.json";

export interface FigureInput {
  title: string;
  metric: string;
  confidence: number;
  curves: StudyCurveFieldsFragment[];
}

/** The Vega-Lite spec, data inline: one row per arm and step, and one per arm's stage boundary. */
export function studyFigureSpec(input: FigureInput): Record<string, unknown> {
  const points = input.curves.flatMap((c) =>
    c.points.map((p) => ({ arm: c.arm, step: p.step, n: p.n, mean: p.mean, ciLow: p.ciLow ?? p.mean, ciHigh: p.ciHigh ?? p.mean })),
  );
  // Arms usually share their stage boundaries; one rule per distinct step keeps the figure clean.
  const boundaries = [...new Map(input.curves.flatMap((c) => c.stageBoundaries).map((b) => [b.step, b])).values()].map((b) => ({
    step: b.step,
    label: `stage ${b.stage + 1}`,
  }));
  const x = { field: "step", type: "quantitative", title: "step" };
  const color = { field: "arm", type: "nominal", title: "arm", sort: input.curves.map((c) => c.arm) };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: input.title, subtitle: `mean over seeds with ${Math.round(input.confidence * 100)}% t-interval band` },
    width: 520,
    height: 300,
    config: { font: "DejaVu Sans, Helvetica, Arial, sans-serif", view: { stroke: null }, axis: { grid: true, gridOpacity: 0.4 } },
    layer: [
      {
        data: { values: points },
        mark: { type: "area", opacity: 0.18 },
        encoding: { x, y: { field: "ciLow", type: "quantitative", title: input.metric, scale: { zero: false } }, y2: { field: "ciHigh" }, color },
      },
      {
        data: { values: points },
        mark: { type: "line", strokeWidth: 2, point: points.length <= 60 },
        encoding: { x, y: { field: "mean", type: "quantitative" }, color },
      },
      ...(boundaries.length
        ? [
            {
              data: { values: boundaries },
              mark: { type: "rule", strokeDash: [4, 4], color: "#666" },
              encoding: { x: { field: "step", type: "quantitative" } },
            },
            {
              data: { values: boundaries },
              mark: { type: "text", align: "left", baseline: "top", dx: 3, y: 2, color: "#444", fontSize: 10 },
              encoding: { x: { field: "step", type: "quantitative" }, text: { field: "label" } },
            },
          ]
        : []),
    ],
  };
}

export function figureFormat(file: string): FigureFormat | null {
  if (file.endsWith(".vl.json")) return "vl.json";
  if (file.endsWith(".svg")) return "svg";
  if (file.endsWith(".png")) return "png";
  return null;
}

/** The figure's bytes in the format its file name asks for. */
export async function renderStudyFigure(input: FigureInput, format: FigureFormat): Promise<Buffer> {
  const spec = studyFigureSpec(input);
  if (format === "vl.json") return Buffer.from(JSON.stringify(spec, null, 2) + "\n");
  const [{ compile }, vega] = await Promise.all([import("vega-lite"), import("vega")]);
  const view = new vega.View(vega.parse(compile(spec as never).spec), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  if (format === "svg") return Buffer.from(svg);
  const { Resvg } = await import("@resvg/resvg-js");
  // Twice the nominal size: sharp enough for a paper at column width.
  const png = new Resvg(svg, {
    fitTo: { mode: "zoom", value: 2 },
    background: "white",
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" },
  }).render();
  return png.asPng();
}
