// `icrl bench run|watch|show`: start benchmark runs (a worker evaluates them), follow one with a
// progress bar, and print results as a paper-style table: one row per model/checkpoint (model file +
// adapter step), one column per benchmark, and the average, as exact match x100.
import { InvalidArgumentError, type Command } from "commander";
import type { IcrlClient, BenchmarkRunFieldsFragment } from "../../client-sdk/src/index.js";
import { clientAction, commandGroup, withConnection, type ConnectionOptions } from "../support/command.js";

const TERMINAL = ["SUCCEEDED", "FAILED", "CANCELLED"];

type BenchRun = Pick<BenchmarkRunFieldsFragment, "id" | "model" | "status" | "createdAt" | "aggregate" | "dataset" | "adapterArtifact">;

export interface BenchRow {
  label: string;
  model: string;
  adapter: { id: string; name: string; step: number | null } | null;
  /** Score x100 per benchmark (dataset name); null where this model has no finished run. */
  scores: Record<string, number | null>;
  /** Mean of the scores present (null when none). */
  avg: number | null;
  /** Benchmark run behind each score. */
  runIds: Record<string, string>;
}

export interface BenchTable {
  benchmarks: string[];
  rows: BenchRow[];
}

/** Four decimals: enough for any table, and 55 stays 55 rather than 55.00000000000001. */
const round4 = (v: number) => Math.round(v * 1e4) / 1e4;

const modelName = (model: string) =>
  model
    .replace(/\\/g, "/")
    .split("/")
    .pop()!
    .replace(/\.gguf$/i, "");

/**
 * The headline number of a finished run, x100: exact match for QA (the paper's metric), the
 * benchmark's own accuracy (e.g. math_equiv) when the run has no em.
 */
export function headlineScore(aggregate: unknown): number | null {
  const a = aggregate as { em?: unknown; accuracy?: unknown } | null;
  const value = typeof a?.em === "number" ? a.em : typeof a?.accuracy === "number" ? a.accuracy : null;
  return value === null ? null : round4(value * 100);
}

/** Succeeded runs as a model x benchmark table; the newest run wins where there are several. */
export function buildBenchTable(runs: BenchRun[], benchmarkOrder?: string[]): BenchTable {
  const finished = runs.filter((r) => r.status === "SUCCEEDED" && headlineScore(r.aggregate) !== null);
  finished.sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
  const benchmarks = benchmarkOrder?.length ? benchmarkOrder : [...new Set(finished.map((r) => r.dataset.name))].sort();
  const rows = new Map<string, BenchRow>();
  for (const run of finished) {
    if (!benchmarks.includes(run.dataset.name)) continue;
    const key = `${run.model}\0${run.adapterArtifact?.id ?? ""}`;
    let row = rows.get(key);
    if (!row) {
      const a = run.adapterArtifact;
      const suffix = a ? (a.step != null ? ` @ step ${a.step}` : ` + ${a.name}`) : "";
      row = {
        label: modelName(run.model) + suffix,
        model: run.model,
        adapter: a ? { id: a.id, name: a.name, step: a.step } : null,
        scores: {},
        avg: null,
        runIds: {},
      };
      rows.set(key, row);
    }
    row.scores[run.dataset.name] = headlineScore(run.aggregate);
    row.runIds[run.dataset.name] = run.id;
  }
  const list = [...rows.values()];
  // Two files with the same name in different folders: show their paths instead.
  const byLabel = new Map<string, number>();
  for (const r of list) byLabel.set(r.label, (byLabel.get(r.label) ?? 0) + 1);
  for (const r of list) {
    if ((byLabel.get(r.label) ?? 0) > 1) r.label = r.model + r.label.slice(modelName(r.model).length);
    for (const b of benchmarks) r.scores[b] ??= null;
    const present = benchmarks.map((b) => r.scores[b]).filter((v): v is number => v !== null);
    r.avg = present.length ? round4(present.reduce((x, y) => x + y, 0) / present.length) : null;
  }
  list.sort((a, b) => a.model.localeCompare(b.model) || (a.adapter?.step ?? -1) - (b.adapter?.step ?? -1) || a.label.localeCompare(b.label));
  return { benchmarks, rows: list };
}

/** Plain-text table: scores with one decimal, "-" where a model has no run of that benchmark. */
export function renderBenchTable(table: BenchTable): string {
  if (table.rows.length === 0) return "No finished benchmark runs.\n";
  const headers = ["Model", ...table.benchmarks, "Avg"];
  const cell = (v: number | null) => (v === null ? "-" : v.toFixed(1));
  const body = table.rows.map((r) => [r.label, ...table.benchmarks.map((b) => cell(r.scores[b])), cell(r.avg)]);
  const widths = headers.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ");
  const rule = widths.map((w) => "-".repeat(w)).join("-|-");
  const partial = table.rows.some((r) => table.benchmarks.some((b) => r.scores[b] === null));
  return [line(headers), rule, ...body.map(line)].join("\n") + "\n" + (partial ? "Avg is over the benchmarks each model has results for.\n" : "");
}

async function loadConfig(text: string | undefined): Promise<Record<string, unknown>> {
  const { badInput } = await import("../support/exit-codes.js");
  if (!text) return {};
  let source = text;
  if (text.startsWith("@")) {
    const { readFile } = await import("node:fs/promises");
    source = await readFile(text.slice(1), "utf8").catch((e: Error) => {
      throw badInput(`Cannot read ${text.slice(1)}: ${e.message}`);
    });
  }
  try {
    const { parse } = await import("yaml"); // JSON is YAML
    const value = parse(source) as unknown;
    if (!value || typeof value !== "object" || Array.isArray(value)) throw new Error("expected a mapping of settings");
    return value as Record<string, unknown>;
  } catch (e) {
    throw badInput(`--config is not a JSON/YAML mapping: ${(e as Error).message}`);
  }
}

function integer(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min) throw new InvalidArgumentError(`--${name} must be an integer >= ${min}`);
    return n;
  };
}

/** Follow a benchmark run until it finishes; returns the exit code (0 only when it succeeded). */
export async function watchBenchmark(client: IcrlClient, id: string, json: boolean): Promise<number> {
  const { BenchmarkRunDocument, BenchmarkProgressSummaryDocument } = await import("../../client-sdk/src/index.js");
  const { ProgressBar } = await import("../support/progress-bar.js");
  const { keyValues, formatNumber } = await import("../support/output.js");
  const { notFound } = await import("../support/exit-codes.js");
  const initial = (await client.query(BenchmarkRunDocument, { id, first: 1 })).benchmarkRun;
  if (!initial) throw notFound(`No benchmark run with id ${id}.`);
  let state: { status: string; completed: number; total: number; aggregate: unknown; error: string | null; name: string } = initial;
  if (!TERMINAL.includes(state.status)) {
    const bar = json ? null : new ProgressBar(initial.name, initial.total, process.stderr, (n) => String(n));
    bar?.update(initial.completed, true);
    // From cursor 0: a run that finishes before the subscription starts still ends the watch.
    for await (const event of client.subscribe(BenchmarkProgressSummaryDocument, { benchmarkRunId: id, after: "0" })) {
      const run = event.benchmarkProgress.benchmarkRun;
      state = run;
      if (json)
        process.stdout.write(
          JSON.stringify({
            type: "progress",
            status: run.status,
            completed: run.completed,
            total: run.total,
            items: event.benchmarkProgress.items.length,
          }) + "\n",
        );
      bar?.update(run.completed);
      if (TERMINAL.includes(run.status)) break;
    }
    bar?.finish(state.completed);
  }
  if (json)
    process.stdout.write(
      JSON.stringify({
        type: "end",
        status: state.status,
        completed: state.completed,
        total: state.total,
        aggregate: state.aggregate,
        error: state.error,
      }) + "\n",
    );
  else {
    const agg = (state.aggregate ?? {}) as Record<string, unknown>;
    const pairs: [string, string][] = [
      ["status", state.status],
      ["items", `${state.completed} / ${state.total}`],
    ];
    for (const [k, v] of Object.entries(agg)) pairs.push([k, typeof v === "number" ? formatNumber(v) : String(v)]);
    if (state.error) pairs.push(["error", state.error]);
    process.stdout.write(keyValues(pairs));
  }
  return state.status === "SUCCEEDED" ? 0 : 1;
}

interface RunOptions extends ConnectionOptions {
  dataset?: string;
  model?: string;
  run?: string;
  step?: number;
  adapter?: string;
  name?: string;
  split?: string;
  limit?: number;
  shots?: number;
  metric?: string;
  parallel?: number;
  config?: string;
  watch?: boolean;
}

export function register(program: Command): void {
  const bench = commandGroup(program, "bench", "run benchmarks on models and checkpoints, and compare the results");

  withConnection(
    bench
      .command("run")
      .description("start a benchmark run (a worker picks it up); --watch follows it to the end")
      .option("--dataset <id>", "benchmark dataset id (required without --run)")
      .option("--model <path>", "GGUF model file, as the worker sees it (required without --run)")
      .option("--adapter <artifact-id>", "LoRA adapter artifact to evaluate on top of the model")
      .option("--run <id>", "evaluate a training run's adapter as it was trained: its model, template, tools, budgets and dataset")
      .option("--step <n>", "with --run: the adapter checkpoint of this step (default: the latest)", integer("step", 0))
      .option("--name <name>", "run name (default: <model> / <dataset>)")
      .option("--split <split>", "dataset split")
      .option("--limit <n>", "first n items only", integer("limit", 1))
      .option("--shots <k>", "in-context demonstrations (default 0: zero-shot, as in the paper)", integer("shots", 0))
      .option("--metric <name>", "em | f1 | subem | math_equiv | gsm8k (default: em for QA, math_equiv for math)")
      .option("--parallel <n>", "questions evaluated at once", integer("parallel", 1))
      .option("--config <json|@file>", "further settings (tools, decoding, maxToolTurns, ...) as JSON/YAML or @file; flags win")
      .option("--watch", "follow the run with a progress bar until it finishes (exit 1 unless it succeeds)")
      .addHelpText(
        "after",
        `
With --run the defaults come from the training run: its model, the adapter checkpoint of --step (or
the latest), its prompt template, tools, task, reward metric, rollout budgets and demonstration set,
and its dataset's validation split (the whole dataset when it has none). Flags and --config win.`,
      ),
  ).action(
    clientAction<RunOptions>(async (client, opts) => {
      const { StartBenchmarkRunDocument, DatasetDocument } = await import("../../client-sdk/src/index.js");
      const { printJson, keyValues } = await import("../support/output.js");
      const { notFound, badInput } = await import("../support/exit-codes.js");
      const { isId } = await import("../support/resolve.js");
      if (opts.step !== undefined && !opts.run) throw badInput("--step picks a checkpoint of --run RUN; add --run or use --adapter ARTIFACT.");
      if (opts.run && opts.adapter)
        throw badInput("--run picks the run's own adapter; give --step N for another checkpoint, or drop --run to use --adapter.");
      const fromRun = opts.run ? await (await import("../support/bench-from-run.js")).benchFromRun(client, opts.run, opts.step) : null;
      const datasetId = opts.dataset ?? fromRun?.datasetId;
      const model = opts.model ?? fromRun?.model;
      if (!datasetId || !model) throw badInput("bench run needs --dataset ID and --model PATH, or --run RUN to take them from a training run.");
      if (!isId(datasetId)) throw badInput(`--dataset must be a dataset id (see \`icrl dataset list\`), got ${JSON.stringify(datasetId)}.`);
      const dataset = (await client.query(DatasetDocument, { id: datasetId, first: 1 })).dataset;
      if (!dataset) throw notFound(`No dataset with id ${datasetId}.`);
      const runDefaults = { ...fromRun?.config };
      // The run's validation split belongs to the run's dataset, not to another one given with --dataset.
      if (fromRun && datasetId !== fromRun.datasetId) delete runDefaults.split;
      const config: Record<string, unknown> = { ...runDefaults, ...(await loadConfig(opts.config)) };
      for (const key of ["split", "limit", "shots", "metric", "parallel"] as const) if (opts[key] !== undefined) config[key] = opts[key];
      const label = fromRun ? `${fromRun.runName} @ step ${fromRun.adapter.step}` : modelName(model);
      const started = (
        await client.mutate(StartBenchmarkRunDocument, {
          input: {
            name: opts.name ?? `${label} / ${dataset.name}`,
            datasetId: dataset.id,
            model,
            adapterArtifactId: opts.adapter ?? fromRun?.adapter.id ?? null,
            config,
          },
        })
      ).startBenchmarkRun;
      if (opts.json && !opts.watch) return printJson(started);
      if (opts.json) process.stdout.write(JSON.stringify({ type: "started", benchmarkRun: started }) + "\n");
      else
        process.stdout.write(
          keyValues([
            ["id", started.id],
            ["name", started.name],
            ["items", String(started.total)],
          ]),
        );
      if (opts.watch) return watchBenchmark(client, started.id, Boolean(opts.json));
    }),
  );

  withConnection(bench.command("watch").description("follow a benchmark run until it finishes").argument("<id>", "benchmark run id")).action(
    clientAction(async (client, opts, [id]) => watchBenchmark(client, id as string, Boolean(opts.json))),
  );

  withConnection(
    bench
      .command("show")
      .description("results table: rows model/checkpoint, columns benchmarks and Avg (EM x100; accuracy for math)")
      .option("--dataset <id...>", "only these benchmarks, in this column order (repeatable)"),
  ).action(
    clientAction<ConnectionOptions & { dataset?: string[] }>(async (client, opts) => {
      const { BenchmarkRunsDocument } = await import("../../client-sdk/src/index.js");
      const { collect, pages } = await import("../support/paginate.js");
      const { printJson } = await import("../support/output.js");
      const fetchRuns = (datasetId: string | null) =>
        collect(pages((after) => client.query(BenchmarkRunsDocument, { first: 100, after, datasetId }).then((r) => r.benchmarkRuns)));
      const runs = opts.dataset?.length ? (await Promise.all(opts.dataset.map(fetchRuns))).flat() : await fetchRuns(null);
      const order = opts.dataset?.length
        ? opts.dataset.map((id) => runs.find((r) => r.dataset.id === id)?.dataset.name).filter((n): n is string => Boolean(n))
        : undefined;
      const table = buildBenchTable(runs, order);
      if (opts.json) return printJson(table);
      process.stdout.write(renderBenchTable(table));
    }),
  );
}
