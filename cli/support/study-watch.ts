// `icrl study watch`: one studyUpdated subscription (its first event is the study as it is now),
// a progress bar over the runs and the summary table, refetched at most once a second while runs
// log metrics. On a terminal the view is redrawn in place; piped, it prints a line per change and
// the table at the end; with --json, one JSON line per event and the final summary.
import { type IcrlClient, StudyUpdatedDocument, type StudyFieldsFragment, type StudySummaryFieldsFragment } from "../../client-sdk/src/index.js";
import { EXIT } from "./exit-codes.js";
import { bar } from "./progress-bar.js";
import { statusColor, styleFor } from "./style.js";
import { pointLabel, summaryTable } from "./study-table.js";
import { chooseMetric, fetchSummary, parsePoint, progressLine, requireStudy, TERMINAL_STUDY_STATUSES } from "./study-view.js";

const REFRESH_MS = 1000;

export async function watchStudy(
  client: IcrlClient,
  idOrName: string,
  opts: { json?: boolean; metric?: string; at?: string; lowerIsBetter?: boolean; baseline?: string },
): Promise<number> {
  const point = parsePoint(opts.at);
  const detail = await requireStudy(client, idOrName);
  let study: StudyFieldsFragment = detail;
  let metricKeys = detail.metricKeys;
  let summary: StudySummaryFieldsFragment | null = null;
  const style = styleFor(process.stdout);
  const tty = Boolean(process.stdout.isTTY) && !opts.json;
  const baseline = opts.baseline ?? detail.baselineArm;
  const finished = () => TERMINAL_STUDY_STATUSES.includes(study.status);

  const refreshSummary = async () => {
    // Until a run logs the metric asked for, fall back the way `study show` does.
    if (!opts.metric) metricKeys = (await requireStudy(client, study.id)).metricKeys;
    const metric = chooseMetric({ metricKeys }, opts.metric);
    summary = await fetchSummary(client, study.id, { metric, point, higherIsBetter: !opts.lowerIsBetter, baseline: opts.baseline });
  };

  let frameLines = 0;
  let lastLine = "";
  const draw = (final: boolean) => {
    if (opts.json) return;
    const p = study.progress;
    const head = `${style.bold(study.name)} ${statusColor(style, study.status)} ${bar(p.succeeded + p.failed + p.cancelled, p.total, 24)} ${progressLine(p)}`;
    if (tty) {
      const lines = [head, ""];
      if (summary) lines.push(`${summary.metric} (${pointLabel(summary)})`, ...summaryTable(summary, baseline).trimEnd().split("\n"));
      process.stdout.write((frameLines ? `\u001b[${frameLines}A\r\u001b[J` : "") + lines.join("\n") + "\n");
      frameLines = lines.length;
      return;
    }
    const line = `${study.status} ${progressLine(p)}`;
    if (line !== lastLine) process.stdout.write(line + "\n");
    lastLine = line;
    if (final && summary) process.stdout.write(`\n${summary.metric} (${pointLabel(summary)})\n${summaryTable(summary, baseline)}`);
  };

  let lastRefresh = 0;
  const stop = new AbortController();
  for await (const event of client.subscribe(StudyUpdatedDocument, { studyId: detail.id }, { signal: stop.signal })) {
    study = event.studyUpdated.study;
    if (opts.json) process.stdout.write(JSON.stringify({ type: "study", cursor: event.studyUpdated.cursor, study }) + "\n");
    if (finished() || Date.now() - lastRefresh >= REFRESH_MS) {
      lastRefresh = Date.now();
      await refreshSummary();
    }
    draw(finished());
    if (finished()) break;
  }
  stop.abort();
  if (opts.json && summary) process.stdout.write(JSON.stringify({ type: "summary", summary }) + "\n");
  return study.status === "SUCCEEDED" ? EXIT.OK : EXIT.FAILED;
}
