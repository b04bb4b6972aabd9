// `icrl study export` and `icrl study plot`: the server's numbers written to a file (or stdout) for
// a spreadsheet, a notebook or a paper.
import { writeFile } from "node:fs/promises";
import { type IcrlClient, StudyCurvesDocument } from "../../client-sdk/src/index.js";
import { badInput, notFound } from "./exit-codes.js";
import { figureFormat, renderStudyFigure } from "./study-plot.js";
import { curvesCsv, summaryCsv, valuesCsv } from "./study-table.js";
import { chooseMetric, fetchSummary, parsePoint, requireStudy } from "./study-view.js";

const TABLES = ["summary", "values", "curves"] as const;

async function fetchCurves(client: IcrlClient, studyId: string, metric: string, maxPoints: number) {
  const r = await client.query(StudyCurvesDocument, { id: studyId, metric, maxPoints });
  if (!r.study) throw notFound(`No study with id ${studyId}.`);
  return r.study.curves;
}

async function emit(out: string | undefined, bytes: string | Buffer): Promise<void> {
  if (!out) {
    process.stdout.write(bytes);
    return;
  }
  await writeFile(out, bytes);
  process.stderr.write(`Wrote ${out}.\n`);
}

export async function exportStudy(
  client: IcrlClient,
  idOrName: string,
  opts: { metric?: string; at?: string; lowerIsBetter?: boolean; baseline?: string; format: string; table: string; out?: string },
): Promise<void> {
  const format = opts.format.toLowerCase();
  if (format !== "csv" && format !== "json") throw badInput(`--format must be csv or json, got ${JSON.stringify(opts.format)}.`);
  const tableName = opts.table.toLowerCase() as (typeof TABLES)[number];
  if (!TABLES.includes(tableName)) throw badInput(`--table must be one of ${TABLES.join(", ")}, got ${JSON.stringify(opts.table)}.`);
  const point = parsePoint(opts.at);
  const study = await requireStudy(client, idOrName);
  const metric = chooseMetric(study, opts.metric);
  const request = { metric, point, higherIsBetter: !opts.lowerIsBetter, baseline: opts.baseline };
  if (format === "json") {
    const [summary, curves] = await Promise.all([fetchSummary(client, study.id, request), fetchCurves(client, study.id, metric, 200)]);
    return emit(opts.out, JSON.stringify({ study, summary, curves }, null, 2) + "\n");
  }
  if (tableName === "curves") return emit(opts.out, curvesCsv(study, metric, await fetchCurves(client, study.id, metric, 200)));
  const summary = await fetchSummary(client, study.id, request);
  return emit(opts.out, tableName === "summary" ? summaryCsv(study, summary) : valuesCsv(study, summary));
}

export async function plotStudy(client: IcrlClient, idOrName: string, opts: { metric?: string; out: string; maxPoints: string }): Promise<void> {
  const format = figureFormat(opts.out);
  if (!format) throw badInput(`--out must end in .svg, .png or .vl.json, got ${JSON.stringify(opts.out)}.`);
  const maxPoints = Number(opts.maxPoints);
  if (!Number.isInteger(maxPoints) || maxPoints < 2)
    throw badInput(`--max-points must be an integer of at least 2, got ${JSON.stringify(opts.maxPoints)}.`);
  const study = await requireStudy(client, idOrName);
  const metric = chooseMetric(study, opts.metric);
  const curves = await fetchCurves(client, study.id, metric, maxPoints);
  if (!curves.some((c) => c.points.length)) {
    throw badInput(`No run of study ${study.name} has logged ${metric} yet (logged: ${study.metricKeys.join(", ") || "nothing"}).`);
  }
  const bytes = await renderStudyFigure({ title: `${study.name}: ${metric}`, metric, confidence: 0.95, curves }, format);
  await emit(opts.out, bytes);
}
