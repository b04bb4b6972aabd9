// The state `icrl run watch` keeps (run, metric series, latest rollouts) and how it is drawn as a
// terminal frame. Pure: events in, lines out; the command does the subscribing and the writing.
import type { MetricPointFieldsFragment, RolloutFieldsFragment, RunFieldsFragment } from "../../client-sdk/src/index.js";
import { formatNumber, truncate } from "./output.js";
import { bar } from "./progress-bar.js";
import type { RunDetail } from "./resolve.js";
import { progressText, stepTotal, TERMINAL_STATUSES } from "./run-summary.js";
import { sparkline } from "./sparkline.js";
import { statusColor, type Style } from "./style.js";

export const SPARK_KEYS = ["reward/mean", "accuracy/mean", "tools/valid_calls_per_rollout"];
const KEEP_POINTS = 200;
export const KEEP_ROLLOUTS = 3;

export class WatchState {
  run: RunDetail;
  /** Values by step for the sparkline keys (a point re-sent for a step replaces the old one). */
  readonly series = new Map<string, Map<number, number>>();
  readonly latest = new Map<string, MetricPointFieldsFragment>();
  readonly rollouts: RolloutFieldsFragment[] = [];
  rolloutCount = 0;

  constructor(run: RunDetail) {
    this.run = run;
    for (const p of run.latestMetrics) this.latest.set(p.key, p);
  }

  seedSeries(key: string, points: { step: number; value: number }[]): void {
    const s = this.seriesOf(key);
    for (const p of points) s.set(p.step, p.value);
  }

  onRun(run: RunFieldsFragment): void {
    // Keep the curriculum stages and metrics the detail query fetched; take everything else fresh.
    this.run = { ...this.run, ...run, curriculum: this.run.curriculum };
  }

  onMetrics(points: MetricPointFieldsFragment[]): void {
    for (const p of points) {
      const prev = this.latest.get(p.key);
      if (!prev || p.step >= prev.step) this.latest.set(p.key, p);
      if (SPARK_KEYS.includes(p.key)) {
        const s = this.seriesOf(p.key);
        s.set(p.step, p.value);
        if (s.size > KEEP_POINTS) s.delete(Math.min(...s.keys()));
      }
    }
  }

  onRollout(rollout: RolloutFieldsFragment): void {
    this.rolloutCount++;
    this.rollouts.push(rollout);
    if (this.rollouts.length > KEEP_ROLLOUTS) this.rollouts.shift();
  }

  private seriesOf(key: string): Map<number, number> {
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = new Map()));
    return s;
  }

  valuesOf(key: string): number[] {
    return [...(this.series.get(key) ?? new Map<number, number>()).entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
  }
}

const oneLine = (text: string) => text.replace(/\s+/g, " ").trim();

/** The frame as lines, each at most `width` columns wide (so redrawing in place never wraps). */
export function renderFrame(state: WatchState, style: Style, width: number): string[] {
  const w = Math.max(40, width - 1);
  const run = state.run;
  const lines: string[] = [];
  const fit = (text: string, room = w) => truncate(text, room);
  lines.push(`${style.bold(fit(`Run ${run.name}`, w - 12))}  ${statusColor(style, run.status)}`);
  lines.push(style.dim(fit(`${run.id} · experiment ${run.experiment.name}`)));
  const total = stepTotal(run);
  lines.push(`${total != null ? bar(run.step, total, Math.max(10, Math.min(40, w - 45))) + "  " : ""}${progressText(run)}`);
  if (run.error) lines.push(style.red(fit(`error: ${oneLine(run.error)}`)));
  lines.push("");
  const label = Math.max(...SPARK_KEYS.map((k) => k.length));
  const sparkWidth = Math.max(10, Math.min(60, w - label - 14));
  for (const key of SPARK_KEYS) {
    const values = state.valuesOf(key);
    const latest = state.latest.get(key);
    lines.push(
      `${key.padEnd(label)}  ${style.cyan(sparkline(values, sparkWidth).padEnd(sparkWidth))}  ${latest ? formatNumber(latest.value) : style.dim("-")}`,
    );
  }
  lines.push("");
  lines.push(style.bold(`Latest rollouts`) + style.dim(` (${state.rolloutCount} seen)`));
  if (!state.rollouts.length)
    lines.push(style.dim(TERMINAL_STATUSES.includes(run.status) ? "  none: the run ended without any" : "  waiting for rollouts…"));
  for (const r of [...state.rollouts].reverse()) {
    const parts = Object.entries((r.rewardComponents ?? {}) as Record<string, unknown>)
      .filter(([, v]) => typeof v === "number")
      .map(([k, v]) => `${k} ${formatNumber(v as number)}`);
    lines.push(
      fit(
        `  step ${r.step} · ${r.questionId} · g${r.groupIndex}/s${r.sampleIndex} · reward ${formatNumber(r.reward)}${parts.length ? ` (${parts.join(", ")})` : ""} · ${r.finishReason}`,
      ),
    );
    for (const seg of r.segments.slice(0, 6)) {
      const tag = seg.kind === "TOOL_CALL" ? "call  " : seg.kind === "TOOL_RESULT" ? "result" : seg.kind === "SYSTEM" ? "system" : "model ";
      const paint =
        seg.kind === "TOOL_CALL" ? style.yellow : seg.kind === "TOOL_RESULT" ? style.blue : seg.kind === "SYSTEM" ? style.magenta : style.dim;
      lines.push(paint(fit(`    ${tag} ${oneLine(seg.text)}`)));
    }
    if (r.segments.length > 6) lines.push(style.dim(`    … ${r.segments.length - 6} more segments`));
  }
  return lines;
}
