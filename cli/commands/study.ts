// `icrl study create|list|show|watch|export|plot|cancel`: arms × seeds as one object, summarized
// with confidence intervals by the server. Heavy modules load inside the actions.
import type { Command } from "commander";
import { clientAction, commandGroup, withConnection, type ConnectionOptions } from "../support/command.js";

const STUDY_FILE_HELP = `
The file (YAML or JSON) holds one study: a base run config, arms as patches over it, and seeds.
Every (arm, seed) becomes a run named <study>/<arm>/seed-<seed>.

  experiment: qwen-search
  name: curriculum-ablation
  description: does removing demonstrations stage by stage help?
  base: runs/3-2-0.yaml            # a run file (its config:), relative to this file; or
  # config: { ... }                # the base run config inline
  baseline: curriculum             # differences are taken against this arm (default: the first)
  arms:
    curriculum: {}                 # the base as is
    zero-shot:                     # patches merge key by key; lists replace; null removes
      curriculum: { stages: [{ shots: 0, steps: 300 }] }
  seeds: [1, 2, 3, 4, 5]

It is validated locally before anything is sent (FILE:LINE:COL: path: message, exit code 2).`;

interface SummaryOptions extends ConnectionOptions {
  metric?: string;
  at?: string;
  lowerIsBetter?: boolean;
  baseline?: string;
}

const summaryOptions = (cmd: Command) =>
  cmd
    .option("-m, --metric <key>", "metric key (default: val/accuracy when logged, else reward/mean)")
    .option("--at <point>", "which value of each run: final, best or a step number", "final")
    .option("--lower-is-better", "for --at best: the lowest value is the best (a loss)")
    .option("--baseline <arm>", "take differences against this arm (default: the study's baseline)");

export function register(program: Command): void {
  const study = commandGroup(program, "study", "arms × seeds as one object: create, follow, summarize and plot studies");

  withConnection(
    study
      .command("create")
      .description("create a study (one run per arm and seed) from a YAML or JSON study file")
      .requiredOption("-f, --file <file>", "study file (YAML or JSON)")
      .option("-e, --experiment <id-or-name>", "experiment (overrides the file's; created by name if missing)")
      .option("-n, --name <name>", "study name (overrides the file's)")
      .option(
        "--set <path=value>",
        "override a base config setting for every arm, e.g. model.path=other.gguf (repeatable; a YAML value)",
        (value: string, previous: string[] = []) => [...previous, value],
      )
      .option("--arms <names>", "only these of the file's arms, comma-separated (the baseline arm must be one)")
      .option("--seeds <list>", "these seeds instead of the file's, comma-separated integers, e.g. 1,2,3")
      .addHelpText("after", STUDY_FILE_HELP),
  ).action(
    clientAction<ConnectionOptions & { file: string; experiment?: string; name?: string; set?: string[]; arms?: string; seeds?: string }>(
      async (client, opts) => {
        const { createStudyFromFile } = await import("../support/study-create.js");
        const { badInput } = await import("../support/exit-codes.js");
        const list = (value: string) => value.split(",").map((v) => v.trim());
        const arms = opts.arms === undefined ? undefined : list(opts.arms);
        if (arms?.some((a) => a === ""))
          throw badInput(`--arms takes arm names separated by commas, e.g. --arms icrl,zero-shot; got ${JSON.stringify(opts.arms)}.`);
        const seeds = opts.seeds === undefined ? undefined : list(opts.seeds).map((v) => (/^-?\d+$/.test(v) ? Number(v) : Number.NaN));
        if (seeds?.some((n) => !Number.isSafeInteger(n)) || (seeds && new Set(seeds).size !== seeds.length)) {
          throw badInput(`--seeds takes distinct integers separated by commas, e.g. --seeds 1,2,3; got ${JSON.stringify(opts.seeds)}.`);
        }
        const { study: created, experimentCreated } = await createStudyFromFile(client, opts.file, {
          experiment: opts.experiment,
          name: opts.name,
          set: opts.set,
          arms,
          seeds,
        });
        if (opts.json) return (await import("../support/output.js")).printJson(created);
        process.stderr.write(
          `Created study ${created.name} in experiment ${created.experiment.name}${experimentCreated ? " (new experiment)" : ""}: ` +
            `${created.arms.length} arms × ${created.seeds.length} seeds = ${created.progress.total} runs, queued.\n`,
        );
        process.stdout.write(created.id + "\n");
      },
    ),
  );

  withConnection(
    study
      .command("list")
      .description("list studies, newest first")
      .option("-e, --experiment <id-or-name>", "only this experiment's studies")
      .option("--limit <n>", "at most this many studies", "100"),
  ).action(
    clientAction<ConnectionOptions & { experiment?: string; limit: string }>(async (client, opts) => {
      const { StudiesDocument } = await import("../../client-sdk/src/index.js");
      const { badInput } = await import("../support/exit-codes.js");
      const { requireExperiment } = await import("../support/resolve.js");
      const { collect, pages } = await import("../support/paginate.js");
      const { printJson, table, formatTime } = await import("../support/output.js");
      const { styleFor, statusColor } = await import("../support/style.js");
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit <= 0) throw badInput(`--limit must be a positive integer, got ${JSON.stringify(opts.limit)}.`);
      const experimentId = opts.experiment ? (await requireExperiment(client, opts.experiment)).id : undefined;
      const studies = await collect(
        pages((after) => client.query(StudiesDocument, { first: Math.min(100, limit), after, experimentId }).then((r) => r.studies)),
        limit,
      );
      if (opts.json) return printJson(studies);
      const style = styleFor();
      process.stdout.write(
        table(
          [
            { header: "ID", value: (s) => style.dim(s.id) },
            { header: "NAME", value: (s) => style.bold(s.name) },
            { header: "EXPERIMENT", value: (s) => s.experiment.name },
            { header: "STATUS", value: (s) => statusColor(style, s.status) },
            { header: "ARMS × SEEDS", value: (s) => `${s.arms.length} × ${s.seeds.length}`, align: "right" },
            {
              header: "DONE",
              value: (s) => `${s.progress.succeeded + s.progress.failed + s.progress.cancelled}/${s.progress.total}`,
              align: "right",
            },
            { header: "CREATED", value: (s) => formatTime(s.createdAt) },
          ],
          studies,
        ),
      );
    }),
  );

  withConnection(
    summaryOptions(
      study
        .command("show")
        .description("a study's arms, progress and summary table (mean ± CI, Δ vs baseline with CI and p)")
        .argument("<study>", "study id or name"),
    ),
  ).action(
    clientAction<SummaryOptions>(async (client, opts, [id]) => {
      const view = await import("../support/study-view.js");
      const { summaryTable, pointLabel } = await import("../support/study-table.js");
      const { keyValues, printJson, formatTime } = await import("../support/output.js");
      const { styleFor, statusColor } = await import("../support/style.js");
      const s = await view.requireStudy(client, id as string);
      const metric = view.chooseMetric(s, opts.metric);
      const summary = await view.fetchSummary(client, s.id, {
        metric,
        point: view.parsePoint(opts.at),
        higherIsBetter: !opts.lowerIsBetter,
        baseline: opts.baseline,
      });
      if (opts.json) return printJson({ study: s, summary });
      const style = styleFor();
      const baseline = opts.baseline ?? s.baselineArm;
      process.stdout.write(
        keyValues([
          ["id", s.id],
          ["name", style.bold(s.name)],
          ["experiment", `${s.experiment.name} ${style.dim(s.experiment.id)}`],
          ...(s.description ? ([["description", s.description]] as [string, string][]) : []),
          ["status", statusColor(style, s.status)],
          ["progress", view.progressLine(s.progress)],
          ["arms", s.arms.map((a) => a.name).join(", ")],
          ["seeds", s.seeds.join(", ")],
          ["created", formatTime(s.createdAt)],
          ["metric", `${metric} (${pointLabel(summary)} value of each run)`],
        ]) + "\n",
      );
      process.stdout.write(summaryTable(summary, baseline));
      process.stdout.write(
        style.dim(
          `\n${summary.method}${summary.arms.some((a) => a.values.some((v) => !v.final)) ? "\n* the run has not finished: its value may still change" : ""}\n`,
        ),
      );
      if (!s.metricKeys.includes(metric))
        process.stderr.write(`note: no run of this study has logged ${metric} yet (logged: ${s.metricKeys.join(", ") || "nothing"}).\n`);
    }),
  );

  withConnection(
    summaryOptions(
      study
        .command("watch")
        .description("follow a study live: a progress bar over its runs and the summary table, until it finishes")
        .argument("<study>", "study id or name"),
    ),
  ).action(
    clientAction<SummaryOptions>(async (client, opts, [id]) => {
      const { watchStudy } = await import("../support/study-watch.js");
      return watchStudy(client, id as string, opts);
    }),
  );

  withConnection(
    summaryOptions(
      study
        .command("export")
        .description("a study's numbers as CSV (summary per arm, values per run, or mean curves) or JSON (all of them)")
        .argument("<study>", "study id or name")
        .option("--format <format>", "csv or json", "csv")
        .option("--table <table>", "for CSV: summary, values or curves", "summary")
        .option("-o, --out <file>", "write here instead of stdout"),
    ),
    { json: false },
  ).action(
    clientAction<SummaryOptions & { format: string; table: string; out?: string }>(async (client, opts, [id]) => {
      const { exportStudy } = await import("../support/study-export.js");
      await exportStudy(client, id as string, opts);
    }),
  );

  withConnection(
    study
      .command("plot")
      .description("a figure of each arm's mean curve with its confidence band and the curriculum's stage boundaries")
      .argument("<study>", "study id or name")
      .option("-m, --metric <key>", "metric key (default: val/accuracy when logged, else reward/mean)")
      .requiredOption("-o, --out <file>", "FIG.svg, FIG.png, or FIG.vl.json for the Vega-Lite spec itself")
      .option("--max-points <n>", "at most this many points per curve", "200"),
    { json: false },
  ).action(
    clientAction<ConnectionOptions & { metric?: string; out: string; maxPoints: string }>(async (client, opts, [id]) => {
      const { plotStudy } = await import("../support/study-export.js");
      await plotStudy(client, id as string, opts);
    }),
  );

  withConnection(
    study.command("cancel").description("cancel every run of a study that has not finished").argument("<study>", "study id or name"),
  ).action(
    clientAction(async (client, opts, [id]) => {
      const { CancelStudyDocument } = await import("../../client-sdk/src/index.js");
      const { requireStudy, progressLine } = await import("../support/study-view.js");
      const s = await requireStudy(client, id as string);
      const cancelled = (await client.mutate(CancelStudyDocument, { id: s.id })).cancelStudy;
      if (opts.json) return (await import("../support/output.js")).printJson(cancelled);
      process.stderr.write(`Cancelled study ${cancelled.name}: ${progressLine(cancelled.progress)}.\n`);
    }),
  );
}
