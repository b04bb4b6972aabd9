// `icrl artifact list|download`: the files runs store (LoRA adapters, learner checkpoints, reports,
// uploaded datasets), named by id or by run and step, downloaded with their sha256 checked.
import { InvalidArgumentError, type Command } from "commander";
import { clientAction, commandGroup, withConnection, type ConnectionOptions } from "../support/command.js";

const KINDS = ["ADAPTER", "CHECKPOINT", "REPORT", "DATASET"] as const;
type Kind = (typeof KINDS)[number];

function kind(value: string): Kind {
  const upper = value.toUpperCase();
  if (!(KINDS as readonly string[]).includes(upper)) throw new InvalidArgumentError(`must be one of ${KINDS.map((k) => k.toLowerCase()).join(", ")}`);
  return upper as Kind;
}

function step(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError("must be a non-negative integer");
  return Number(value);
}

interface DownloadOptions extends ConnectionOptions {
  run?: string;
  step?: number;
  kind: Kind;
  out?: string;
  force?: boolean;
  progress: boolean;
}

export function register(program: Command): void {
  const artifact = commandGroup(program, "artifact", "list and download the files runs store (adapters, checkpoints, reports)");

  withConnection(
    artifact
      .command("list")
      .description("artifacts, of one run or all")
      .option("--run <id>", "only this run's artifacts")
      .option("--kind <kind>", "adapter | checkpoint | report | dataset", kind),
  ).action(
    clientAction<ConnectionOptions & { run?: string; kind?: Kind }>(async (client, opts) => {
      const { ArtifactsDocument } = await import("../../client-sdk/src/index.js");
      const { requireRun } = await import("../support/resolve.js");
      const { printJson, table, formatTime } = await import("../support/output.js");
      const { formatBytes } = await import("../support/progress-bar.js");
      if (opts.run) await requireRun(client, opts.run); // exit 3 for an unknown run, not an empty list
      const found = (await client.query(ArtifactsDocument, { runId: opts.run ?? null, kind: opts.kind ?? null })).artifacts;
      if (opts.json) return printJson(found);
      process.stdout.write(
        table(
          [
            { header: "ID", value: (a) => a.id },
            { header: "KIND", value: (a) => a.kind },
            { header: "NAME", value: (a) => a.name },
            { header: "STEP", value: (a) => (a.step == null ? "-" : String(a.step)), align: "right" },
            { header: "SIZE", value: (a) => formatBytes(Number(a.bytes)), align: "right" },
            { header: "CREATED", value: (a) => formatTime(a.createdAt) },
          ],
          found,
        ),
      );
    }),
  );

  withConnection(
    artifact
      .command("download")
      .description("download an artifact by id, or a run's checkpoint by --run and --step, to a file")
      .argument("[id]", "artifact id (see `icrl artifact list`)")
      .option("--run <id>", "the run whose artifact to download (instead of an id)")
      .option("--step <n>", "with --run: the checkpoint of this step (default: the latest)", step)
      .option("--kind <kind>", "with --run: adapter | checkpoint | report", kind, "ADAPTER")
      .option("-o, --out <path>", "file to write, or a directory to put it in (default: its name, here)")
      .option("--force", "replace an existing file")
      .option("--no-progress", "no progress bar on stderr")
      .addHelpText(
        "after",
        `
The file is written as PATH.part and renamed once its sha256 matches the server's; the path is
printed on stdout. Adapters are GGUF LoRA files llama.cpp loads; checkpoints hold the learner's state.`,
      ),
  ).action(
    clientAction<DownloadOptions>(async (client, opts, [id]) => {
      const { ArtifactDocument } = await import("../../client-sdk/src/index.js");
      const { badInput, notFound } = await import("../support/exit-codes.js");
      const { isId, requireRun } = await import("../support/resolve.js");
      const { downloadArtifact, downloadTarget } = await import("../support/download.js");
      const { printJson } = await import("../support/output.js");
      if (id && opts.run) throw badInput("Give an artifact id or --run RUN [--step N], not both.");
      if (!id && !opts.run) throw badInput("Which artifact? Give its id (see `icrl artifact list`) or --run RUN [--step N].");
      if (id && opts.step !== undefined) throw badInput("--step picks a checkpoint of --run RUN; an artifact id already names one file.");
      let found;
      if (id) {
        if (!isId(id as string)) throw badInput(`${JSON.stringify(id)} is not an artifact id (expected a UUID; see \`icrl artifact list\`).`);
        found = (await client.query(ArtifactDocument, { id: id as string })).artifact;
        if (!found) throw notFound(`No artifact with id ${id} (see \`icrl artifact list\`).`);
      } else {
        await requireRun(client, opts.run!);
        const { runArtifact } = await import("../support/run-artifact.js");
        found = await runArtifact(client, opts.run!, opts.kind, opts.step);
      }
      const target = await downloadTarget(found, opts.out, Boolean(opts.force));
      await downloadArtifact(client, found, target, { progress: opts.progress });
      if (opts.json)
        return printJson({ path: target, id: found.id, kind: found.kind, step: found.step, bytes: Number(found.bytes), sha256: found.sha256 });
      process.stdout.write(target + "\n");
    }),
  );
}
