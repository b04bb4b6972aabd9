// `icrl dataset import|list|archive`: datasets are uploaded as DATASET artifacts, then imported by the
// server (so members never need access to the server's disk).
import type { Command } from "commander";
import { clientAction, commandGroup, withConnection, type ConnectionOptions } from "../support/command.js";

export function register(program: Command): void {
  const dataset = commandGroup(program, "dataset", "import, list and archive datasets");

  withConnection(
    dataset
      .command("import")
      .description("upload a JSONL or verl parquet file and import it as a dataset")
      .argument("<file>", "the dataset file")
      .requiredOption("--name <name>", "dataset name")
      .requiredOption("--kind <kind>", "qa | math")
      .option("--format <format>", "jsonl | verl (default: verl for .parquet files, jsonl otherwise)")
      .option("--split <split>", "split for rows that name none", "train")
      .addHelpText(
        "after",
        `
Formats: jsonl lines of {id, question, golden_answers[]} (QA) or {id, problem, answer} (math);
verl parquet rows {data_source, prompt, ability, reward_model: {ground_truth}, extra_info: {split, index}}.
The upload shows a progress bar on stderr; the dataset id is printed on stdout.`,
      ),
  ).action(
    clientAction<ConnectionOptions & { name: string; kind: string; format?: string; split: string }>(async (client, opts, [file]) => {
      const { badInput } = await import("../support/exit-codes.js");
      const kind = opts.kind.toUpperCase();
      if (kind !== "QA" && kind !== "MATH") throw badInput(`--kind must be qa or math, got ${JSON.stringify(opts.kind)}.`);
      const format = (opts.format ?? (/\.parquet$/i.test(file as string) ? "verl" : "jsonl")).toLowerCase();
      if (format !== "jsonl" && format !== "verl") throw badInput(`--format must be jsonl or verl, got ${JSON.stringify(opts.format)}.`);
      const { uploadArtifact } = await import("../support/upload.js");
      const { ImportDatasetDocument } = await import("../../client-sdk/src/index.js");
      const path = await import("node:path");
      const artifact = await uploadArtifact(client, file as string, { kind: "DATASET", name: path.basename(file as string) });
      const imported = (
        await client.mutate(ImportDatasetDocument, {
          input: { name: opts.name, kind, format: format === "verl" ? "VERL_PARQUET" : "JSONL", artifactId: artifact.id, defaultSplit: opts.split },
        })
      ).importDataset;
      if (opts.json) {
        const { printJson } = await import("../support/output.js");
        return printJson({ ...imported, artifact });
      }
      process.stderr.write(`Imported ${imported.itemCount} items into dataset ${imported.name} (splits: ${imported.splits.join(", ")}).\n`);
      process.stdout.write(imported.id + "\n");
    }),
  );

  withConnection(dataset.command("list").description("list datasets, newest first").option("--all", "include archived datasets")).action(
    clientAction<ConnectionOptions & { all?: boolean }>(async (client, opts) => {
      const { DatasetsDocument } = await import("../../client-sdk/src/index.js");
      const { collect, pages } = await import("../support/paginate.js");
      const { printJson, table, formatTime } = await import("../support/output.js");
      const { styleFor } = await import("../support/style.js");
      const all = await collect(
        pages((after) => client.query(DatasetsDocument, { first: 100, after, includeArchived: Boolean(opts.all) }).then((r) => r.datasets)),
      );
      if (opts.json) return printJson(all);
      const style = styleFor();
      process.stdout.write(
        table(
          [
            { header: "ID", value: (d) => style.dim(d.id) },
            { header: "NAME", value: (d) => (d.archived ? `${d.name} ${style.dim("(archived)")}` : style.bold(d.name)) },
            { header: "KIND", value: (d) => d.kind },
            { header: "ITEMS", value: (d) => String(d.itemCount), align: "right" },
            { header: "SPLITS", value: (d) => d.splits.join(",") },
            { header: "CREATED", value: (d) => formatTime(d.createdAt) },
          ],
          all,
        ),
      );
    }),
  );

  withConnection(
    dataset
      .command("archive")
      .description("hide a dataset from lists (its items and the runs using it are kept; --undo brings it back)")
      .argument("<id-or-name>", "dataset id or exact name")
      .option("--undo", "unarchive"),
  ).action(
    clientAction<ConnectionOptions & { undo?: boolean }>(async (client, opts, [idOrName]) => {
      const { ArchiveDatasetDocument } = await import("../../client-sdk/src/index.js");
      const { requireDataset } = await import("../support/resolve.js");
      const { printJson } = await import("../support/output.js");
      const found = await requireDataset(client, idOrName as string);
      const updated = (await client.mutate(ArchiveDatasetDocument, { id: found.id, archived: !opts.undo })).archiveDataset;
      if (opts.json) return printJson(updated);
      process.stdout.write(`${updated.id} ${updated.name} ${updated.archived ? "archived" : "unarchived"}\n`);
    }),
  );
}
