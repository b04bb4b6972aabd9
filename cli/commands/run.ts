// `icrl run create|list|show|cancel|resume|fork|watch|compare`: training runs from a readable file to a
// live view. Heavy modules load inside the actions so `icrl --help` stays fast.
import { InvalidArgumentError, type Command } from "commander";
import { clientAction, commandGroup, withConnection, type ConnectionOptions } from "../support/command.js";

const STATUSES = ["QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"] as const;

const collect = (value: string, previous: string[]) => [...previous, value];

function nonNegative(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`--${name} must be a non-negative integer`);
    return Number(value);
  };
}

const RUN_FILE_HELP = `
The file (YAML or JSON) holds one run:

  experiment: qwen-search          # created when it does not exist
  name: 3-2-0-lr1e-4
  config:                          # the run config (contracts/run-config.ts)
    model: { path: /models/qwen2.5-3b-instruct-q8_0.gguf }
    dataset: { id: <dataset id from \`icrl dataset list\`> }
    tools: { search: { kind: local, corpus: wiki-18 } }
    curriculum:
      stages: [{ shots: 3, steps: 100 }, { shots: 2, steps: 100 }, { shots: 0, steps: 100 }]
    grpo: { groupSize: 8, lr: 1.0e-4 }

It is validated locally before anything is sent; each problem is reported at its line and column
(FILE:LINE:COL: path: message) and the exit code is 2. On success the run id is printed on stdout.`;

export function register(program: Command): void {
  const run = commandGroup(program, "run", "create, follow and compare training runs");

  withConnection(
    run
      .command("create")
      .description("create a run from a YAML or JSON run definition")
      .requiredOption("-f, --file <file>", "run definition (YAML or JSON)")
      .option("-e, --experiment <id-or-name>", "experiment (overrides the file's; created by name if missing)")
      .option("-n, --name <name>", "run name (overrides the file's)")
      .addHelpText("after", RUN_FILE_HELP),
  ).action(
    clientAction<ConnectionOptions & { file: string; experiment?: string; name?: string }>(async (client, opts) => {
      const { createRunFromFile } = await import("../support/run-create.js");
      const created = await createRunFromFile(client, opts.file, { experiment: opts.experiment, name: opts.name });
      if (opts.json) {
        const { printJson } = await import("../support/output.js");
        return printJson(created.run);
      }
      process.stderr.write(
        `Created run ${created.run.name} in experiment ${created.run.experiment.name}${created.experimentCreated ? " (new experiment)" : ""}; status ${created.run.status}.\n`,
      );
      process.stdout.write(created.run.id + "\n");
    }),
  );

  withConnection(
    run
      .command("list")
      .description("list runs, newest first")
      .option("-e, --experiment <id-or-name>", "only this experiment's runs")
      .option("-s, --status <status...>", `only these statuses (${STATUSES.join(", ")})`)
      .option("--limit <n>", "at most this many runs", "100"),
  ).action(
    clientAction<ConnectionOptions & { experiment?: string; status?: string[]; limit: string }>(async (client, opts) => {
      const { RunsDocument } = await import("../../client-sdk/src/index.js");
      const { badInput } = await import("../support/exit-codes.js");
      const { requireExperiment } = await import("../support/resolve.js");
      const { collect, pages } = await import("../support/paginate.js");
      const { printJson, table, formatTime } = await import("../support/output.js");
      const { styleFor, statusColor } = await import("../support/style.js");
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit <= 0) throw badInput(`--limit must be a positive integer, got ${JSON.stringify(opts.limit)}.`);
      const status = (opts.status ?? [])
        .flatMap((s) => s.split(","))
        .map((s) => s.trim().toUpperCase())
        .filter(Boolean);
      const unknown = status.filter((s) => !(STATUSES as readonly string[]).includes(s));
      if (unknown.length) throw badInput(`Unknown status ${unknown.join(", ")}; choose from ${STATUSES.join(", ")}.`);
      const experimentId = opts.experiment ? (await requireExperiment(client, opts.experiment)).id : undefined;
      const filter = { experimentId, status: status.length ? (status as (typeof STATUSES)[number][]) : undefined };
      const runs = await collect(
        pages((after) => client.query(RunsDocument, { first: Math.min(100, limit), after, filter }).then((r) => r.runs)),
        limit,
      );
      if (opts.json) return printJson(runs);
      const style = styleFor();
      process.stdout.write(
        table(
          [
            { header: "ID", value: (r) => style.dim(r.id) },
            { header: "NAME", value: (r) => style.bold(r.name) },
            { header: "EXPERIMENT", value: (r) => r.experiment.name },
            { header: "STATUS", value: (r) => statusColor(style, r.status) },
            { header: "STEP", value: (r) => String(r.step), align: "right" },
            { header: "STAGE", value: (r) => String(r.stage), align: "right" },
            { header: "SHOTS", value: (r) => (r.shots == null ? "-" : String(r.shots)), align: "right" },
            { header: "CREATED", value: (r) => formatTime(r.createdAt) },
          ],
          runs,
        ),
      );
    }),
  );

  withConnection(run.command("show").description("status, progress, config summary and latest metrics of a run").argument("<id>", "run id")).action(
    clientAction(async (client, opts, [id]) => {
      const { requireRun } = await import("../support/resolve.js");
      const { printJson, keyValues, table, formatNumber, formatTime } = await import("../support/output.js");
      const { configSummary, progressText } = await import("../support/run-summary.js");
      const { failureLines } = await import("../support/run-failure.js");
      const { styleFor, statusColor } = await import("../support/style.js");
      const r = await requireRun(client, id as string);
      if (opts.json) return printJson(r);
      const style = styleFor();
      process.stdout.write(
        keyValues([
          ["id", r.id],
          ["name", style.bold(r.name)],
          ["experiment", `${r.experiment.name} ${style.dim(r.experiment.id)}`],
          ["status", statusColor(style, r.status)],
          ["progress", progressText(r)],
          ["created", formatTime(r.createdAt)],
          ["started", formatTime(r.startedAt)],
          ["finished", formatTime(r.finishedAt)],
          ...(r.parentRun
            ? ([["forked from", `${r.parentRun.name} ${style.dim(r.parentRun.id)} at step ${r.forkStep ?? "?"}`]] as [string, string][])
            : []),
          ...failureLines(r).map(([k, v]): [string, string] => [k, style.red(v)]),
        ]),
      );
      process.stdout.write("\n" + style.bold("Config") + "\n" + keyValues(configSummary(r).map(([k, v]) => [`  ${k}`, v])));
      process.stdout.write("\n" + style.bold("Latest metrics") + "\n");
      const metrics = [...r.latestMetrics].sort((a, b) => a.key.localeCompare(b.key));
      process.stdout.write(
        metrics.length
          ? table(
              [
                { header: "  KEY", value: (p) => `  ${p.key}` },
                { header: "STEP", value: (p) => String(p.step), align: "right" },
                { header: "VALUE", value: (p) => formatNumber(p.value), align: "right" },
              ],
              metrics,
            )
          : style.dim("  none yet\n"),
      );
    }),
  );

  for (const [name, description] of [
    ["cancel", "stop a run at its next step boundary (at once when still queued)"],
    ["resume", "queue a FAILED or CANCELLED run again from its last checkpoint"],
  ] as const) {
    withConnection(run.command(name).description(description).argument("<id>", "run id")).action(
      clientAction(async (client, opts, [id]) => {
        const { CancelRunDocument, ResumeRunDocument } = await import("../../client-sdk/src/index.js");
        const { requireRun } = await import("../support/resolve.js");
        const { printJson } = await import("../support/output.js");
        await requireRun(client, id as string); // exit 3 for an unknown id, before the mutation
        const updated =
          name === "cancel"
            ? (await client.mutate(CancelRunDocument, { id: id as string })).cancelRun
            : (await client.mutate(ResumeRunDocument, { id: id as string })).resumeRun;
        if (opts.json) return printJson(updated);
        process.stdout.write(`${updated.id} ${updated.status}\n`);
      }),
    );
  }

  withConnection(
    run
      .command("fork")
      .description("a new run in the same experiment with this run's config, changed by --set; it continues from the run's checkpoint")
      .argument("<id>", "run id")
      .option("-n, --name <name>", "the new run's name (default: <name>-fork)")
      .option("--set <path=value>", "change one config setting, e.g. --set grpo.lr=0.01 (repeatable; values are YAML)", collect, [])
      .option("--step <n>", "continue from the checkpoint at or before this step (default: the latest)", nonNegative("step"))
      .option("--fresh", "start from step 0 with the config instead of continuing from a checkpoint (model and LoRA may change)")
      .addHelpText(
        "after",
        `
A fork continues from the parent's learner state, so it keeps the parent's model and LoRA shape;
with --fresh anything may change. Prints the new run's id on stdout.`,
      ),
  ).action(
    clientAction<ConnectionOptions & { name?: string; set: string[]; step?: number; fresh?: boolean }>(async (client, opts, [id]) => {
      const { forkRun } = await import("../support/run-fork.js");
      const forked = await forkRun(client, id as string, { name: opts.name, set: opts.set, step: opts.step, fresh: Boolean(opts.fresh) });
      if (opts.json) {
        const { printJson } = await import("../support/output.js");
        return printJson(forked);
      }
      const from = forked.forkStep != null ? `from step ${forked.forkStep} of ${id}` : "from step 0";
      process.stderr.write(`Created run ${forked.name} in experiment ${forked.experiment.name} (${from}); status ${forked.status}.\n`);
      process.stdout.write(forked.id + "\n");
    }),
  );

  withConnection(
    run
      .command("watch")
      .description("follow a run live: progress, metric sparklines, latest rollouts; exits when it finishes")
      .argument("<id>", "run id")
      .option("--from-start", "replay the run's history (every metric point and rollout) before live events")
      .addHelpText(
        "after",
        `
Exit code when the run finishes: 0 if it SUCCEEDED, 1 if it FAILED or was CANCELLED. A run that has
already finished is shown from its stored history (final status, sparklines, last rollouts) at once.
--json prints one JSON object per line: {"type":"snapshot","run"} first, then {"type":"run"|"metrics"|
"rollout", "cursor", ...} as events arrive, and {"type":"end","status"} last.`,
      ),
    { json: true },
  ).action(
    clientAction<ConnectionOptions & { fromStart?: boolean }>(async (client, opts, [id]) => {
      const { watchRun } = await import("../support/run-watch.js");
      return watchRun(client, id as string, { json: opts.json, fromStart: opts.fromStart });
    }),
  );

  withConnection(
    run
      .command("compare")
      .description("side by side: config values that differ and the latest value of every metric")
      .argument("<ids...>", "two or more run ids"),
  ).action(
    clientAction(async (client, opts, [ids]) => {
      const { badInput } = await import("../support/exit-codes.js");
      const list = ids as string[];
      if (list.length < 2) throw badInput("Give at least two run ids to compare.");
      const { printComparison } = await import("../support/run-compare.js");
      await printComparison(client, list, Boolean(opts.json));
    }),
  );
}
