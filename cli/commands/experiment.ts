// `icrl experiment create|list|show|archive`: experiments group the runs of one question being studied.
import type { Command } from "commander";
import { clientAction, commandGroup, withConnection, type ConnectionOptions } from "../support/command.js";

export function register(program: Command): void {
  const experiment = commandGroup(program, "experiment", "create, list, inspect and archive experiments");

  withConnection(
    experiment
      .command("create")
      .description("create an experiment")
      .argument("<name>", "experiment name (unique)")
      .option("-d, --description <text>", "what the experiment is about")
      .option("-t, --tag <tag...>", "tags (repeatable)"),
  ).action(
    clientAction<ConnectionOptions & { description?: string; tag?: string[] }>(async (client, opts, [name]) => {
      const { CreateExperimentDocument } = await import("../../client-sdk/src/index.js");
      const { printJson, keyValues } = await import("../support/output.js");
      const created = (await client.mutate(CreateExperimentDocument, { name: name as string, description: opts.description, tags: opts.tag }))
        .createExperiment;
      if (opts.json) return printJson(created);
      process.stdout.write(
        keyValues([
          ["id", created.id],
          ["name", created.name],
          ["tags", created.tags.join(", ") || "-"],
        ]),
      );
    }),
  );

  withConnection(experiment.command("list").description("list experiments, newest first").option("--all", "include archived experiments")).action(
    clientAction<ConnectionOptions & { all?: boolean }>(async (client, opts) => {
      const { ExperimentsDocument } = await import("../../client-sdk/src/index.js");
      const { collect, pages } = await import("../support/paginate.js");
      const { printJson, table, formatTime, truncate } = await import("../support/output.js");
      const { styleFor } = await import("../support/style.js");
      const all = await collect(
        pages((after) => client.query(ExperimentsDocument, { first: 100, after, includeArchived: Boolean(opts.all) }).then((r) => r.experiments)),
      );
      if (opts.json) return printJson(all);
      const style = styleFor();
      process.stdout.write(
        table(
          [
            { header: "ID", value: (e) => style.dim(e.id) },
            { header: "NAME", value: (e) => (e.archived ? `${e.name} ${style.dim("(archived)")}` : style.bold(e.name)) },
            { header: "TAGS", value: (e) => e.tags.join(",") || "-" },
            { header: "CREATED", value: (e) => formatTime(e.createdAt) },
            { header: "DESCRIPTION", value: (e) => truncate(e.description, 50) || "-" },
          ],
          all,
        ),
      );
    }),
  );

  withConnection(
    experiment.command("show").description("show an experiment and its runs").argument("<id-or-name>", "experiment id or exact name"),
  ).action(
    clientAction(async (client, opts, [idOrName]) => {
      const { RunsDocument } = await import("../../client-sdk/src/index.js");
      const { requireExperiment } = await import("../support/resolve.js");
      const { collect, pages } = await import("../support/paginate.js");
      const { printJson, table, keyValues, formatTime } = await import("../support/output.js");
      const { styleFor, statusColor } = await import("../support/style.js");
      const experiment = await requireExperiment(client, idOrName as string);
      const runs = await collect(
        pages((after) => client.query(RunsDocument, { first: 100, after, filter: { experimentId: experiment.id } }).then((r) => r.runs)),
      );
      if (opts.json) return printJson({ ...experiment, runs });
      const style = styleFor();
      process.stdout.write(
        keyValues([
          ["id", experiment.id],
          ["name", style.bold(experiment.name)],
          ["description", experiment.description || "-"],
          ["tags", experiment.tags.join(", ") || "-"],
          ["archived", String(experiment.archived)],
          ["created", formatTime(experiment.createdAt)],
          ["runs", String(runs.length)],
        ]),
      );
      if (runs.length) {
        process.stdout.write("\n");
        process.stdout.write(
          table(
            [
              { header: "RUN", value: (r) => style.dim(r.id) },
              { header: "NAME", value: (r) => r.name },
              { header: "STATUS", value: (r) => statusColor(style, r.status) },
              { header: "STEP", value: (r) => String(r.step), align: "right" },
              { header: "CREATED", value: (r) => formatTime(r.createdAt) },
            ],
            runs,
          ),
        );
      }
    }),
  );

  withConnection(
    experiment
      .command("archive")
      .description("hide an experiment from lists (its runs are kept; --undo brings it back)")
      .argument("<id-or-name>", "experiment id or exact name")
      .option("--undo", "unarchive"),
  ).action(
    clientAction<ConnectionOptions & { undo?: boolean }>(async (client, opts, [idOrName]) => {
      const { ArchiveExperimentDocument } = await import("../../client-sdk/src/index.js");
      const { requireExperiment } = await import("../support/resolve.js");
      const { printJson } = await import("../support/output.js");
      const found = await requireExperiment(client, idOrName as string);
      const updated = (await client.mutate(ArchiveExperimentDocument, { id: found.id, archived: !opts.undo })).archiveExperiment;
      if (opts.json) return printJson(updated);
      process.stdout.write(`${updated.id} ${updated.name} ${updated.archived ? "archived" : "unarchived"}\n`);
    }),
  );
}
