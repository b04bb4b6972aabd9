// `icrl rollouts export`: a run's rollouts as JSONL (ours or verl's dump format), any size.
import type { Command } from "commander";
import { clientAction, commandGroup, withConnection, type ConnectionOptions } from "../support/command.js";

export function register(program: Command): void {
  const rollouts = commandGroup(program, "rollouts", "export the rollouts of a run");

  withConnection(
    rollouts
      .command("export")
      .description("stream a run's rollouts as JSON lines to stdout or a file")
      .argument("<run-id>", "run id")
      .option("--format <format>", "jsonl (our rollout records) | verl (verl rollout dump lines)", "jsonl")
      .option("-o, --output <file>", "write to this file instead of stdout")
      .option("--no-questions", "verl: do not look up question text and gold answers in the run's dataset")
      .addHelpText(
        "after",
        `
jsonl: one rollout record per line, exactly as the API returns it (segments, reward components,
advantage, token counts, cursor).
verl:  {"input", "output", "gts", "score", "step", ...extras} per line, as verl's rollout dump.
       input = the question text from the run's dataset (the rendered prompt with its demonstrations
       is not stored per rollout), or the question id when the dataset does not have it;
       output = every segment's text in order (tool calls and results included);
       gts = the gold answers; score = the reward; extras = reward components (accuracy, format, ...),
       question_id, stage, shots, group_index, sample_index, advantage, finish_reason, turns,
       tool_calls_valid, tool_calls_invalid, prompt_tokens, response_tokens.`,
      ),
    { json: false },
  ).action(
    clientAction<ConnectionOptions & { format: string; output?: string; questions: boolean }>(async (client, opts, [runId]) => {
      const { badInput } = await import("../support/exit-codes.js");
      if (opts.format !== "jsonl" && opts.format !== "verl") throw badInput(`--format must be jsonl or verl, got ${JSON.stringify(opts.format)}.`);
      const { exportRollouts } = await import("../support/rollout-export.js");
      const { requireRun } = await import("../support/resolve.js");
      const run = await requireRun(client, runId as string);
      const { createWriteStream } = await import("node:fs");
      const { finished } = await import("node:stream/promises");
      const out = opts.output ? createWriteStream(opts.output) : process.stdout;
      if (opts.output) {
        const file = opts.output;
        await new Promise<void>((resolve, reject) => {
          out.once("open", () => resolve());
          out.once("error", (err) => reject(badInput(`Cannot write ${file}: ${err.message}`)));
        });
      }
      // A reader that went away (`| head`) is not an error of ours.
      if (!opts.output) process.stdout.on("error", (err: NodeJS.ErrnoException) => err.code === "EPIPE" && process.exit(0));
      const count = await exportRollouts(client, run, {
        format: opts.format,
        out,
        progress: Boolean(process.stderr.isTTY) && (Boolean(opts.output) || !process.stdout.isTTY),
        questions: opts.questions,
      });
      if (opts.output) {
        out.end();
        await finished(out);
        process.stderr.write(`Wrote ${count} rollouts to ${opts.output}.\n`);
      }
    }),
  );
}
