// `icrl run compare`: what differs between runs' configs (dotted keys, only where values differ)
// and where each run ended up (the latest value of every metric).
import type { IcrlClient } from "../../client-sdk/src/index.js";
import { differingKeys, flatten, showValue } from "./flatten.js";
import { formatNumber, printJson, table, truncate } from "./output.js";
import { requireRun, type RunDetail } from "./resolve.js";
import { styleFor, statusColor } from "./style.js";

export interface Comparison {
  runs: { id: string; name: string; experiment: string; status: string; step: number }[];
  /** Config keys whose values differ: one value per run, in the order given (null when unset). */
  config: Record<string, unknown[]>;
  /** Latest value of each metric key per run (null when the run never logged it). */
  metrics: Record<string, (number | null)[]>;
}

export function compareRuns(runs: RunDetail[]): Comparison {
  const flat = runs.map((r) => flatten(r.config));
  const config: Record<string, unknown[]> = {};
  for (const key of differingKeys(flat)) config[key] = flat.map((f) => (key in f ? f[key] : null));
  const keys = [...new Set(runs.flatMap((r) => r.latestMetrics.map((p) => p.key)))].sort();
  const metrics: Record<string, (number | null)[]> = {};
  for (const key of keys) metrics[key] = runs.map((r) => r.latestMetrics.find((p) => p.key === key)?.value ?? null);
  return {
    runs: runs.map((r) => ({ id: r.id, name: r.name, experiment: r.experiment.name, status: r.status, step: r.step })),
    config,
    metrics,
  };
}

export async function printComparison(client: IcrlClient, ids: string[], json: boolean): Promise<void> {
  const runs = await Promise.all(ids.map((id) => requireRun(client, id)));
  const cmp = compareRuns(runs);
  if (json) return printJson(cmp);
  const style = styleFor();
  type Row = { key: string; values: string[] };
  const columns = (title: string) => [
    { header: title, value: (r: Row) => r.key },
    ...runs.map((run, i) => ({ header: truncate(run.name, 28), value: (r: Row) => r.values[i] })),
  ];
  const head: Row[] = [
    { key: "id", values: runs.map((r) => style.dim(r.id.slice(0, 8))) },
    { key: "experiment", values: runs.map((r) => r.experiment.name) },
    { key: "status", values: runs.map((r) => statusColor(style, r.status)) },
    { key: "step", values: runs.map((r) => String(r.step)) },
  ];
  process.stdout.write(table(columns("RUN"), head) + "\n");
  const configRows = Object.entries(cmp.config).map(([key, values]) => ({ key, values: values.map((v) => truncate(showValue(v ?? undefined), 40)) }));
  process.stdout.write(configRows.length ? table(columns("CONFIG (differs)"), configRows) : style.dim("Configs are identical.\n"));
  process.stdout.write("\n");
  const metricRows = Object.entries(cmp.metrics).map(([key, values]) => {
    const best = Math.max(...values.filter((v): v is number => v != null));
    return { key, values: values.map((v) => (v == null ? "-" : v === best && values.length > 1 ? style.bold(formatNumber(v)) : formatNumber(v))) };
  });
  process.stdout.write(metricRows.length ? table(columns("METRIC (latest)"), metricRows) : style.dim("No metrics logged yet.\n"));
}
