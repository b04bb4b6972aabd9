// `icrl score`: score predictions against gold answers from JSONL, streaming line by line so files
// of any size pass through in constant memory. Each input object comes back with a numeric "score".
import { createReadStream } from "node:fs";
import readline from "node:readline";
import type { Readable } from "node:stream";
import type { Command } from "commander";
import { METRIC_NAMES, getScorer, isMetricName, type Scorer } from "../../worker/scoring/index.js";

const EXIT_BAD_INPUT = 2;

class BadInput extends Error {}

/** Lines of the stream; readline breaks at \n and \r only, never at the U+0085 / U+2028 JSON strings may hold raw. */
function linesOf(stream: Readable): AsyncIterable<string> {
  return readline.createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
}

function parseLine(line: string, lineNumber: number): { record: Record<string, unknown>; prediction: string; golds: string[] } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new BadInput(`line ${lineNumber}: not valid JSON (${(error as Error).message})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new BadInput(`line ${lineNumber}: expected a JSON object`);
  }
  const record = value as Record<string, unknown>;
  if (typeof record.prediction !== "string") {
    throw new BadInput(`line ${lineNumber}: "prediction" must be a string`);
  }
  const golds = record.golds;
  if (!Array.isArray(golds) || !golds.every((gold) => typeof gold === "string")) {
    throw new BadInput(`line ${lineNumber}: "golds" must be a list of strings`);
  }
  return { record, prediction: record.prediction, golds };
}

async function write(text: string): Promise<void> {
  if (!process.stdout.write(text)) {
    await new Promise<void>((resolve) => process.stdout.once("drain", () => resolve()));
  }
}

/** Scores every line to stdout; returns how many records were scored and the sum of their scores. */
async function scoreStream(input: Readable, scorer: Scorer): Promise<{ count: number; sum: number }> {
  let lineNumber = 0;
  const total = { count: 0, sum: 0 };
  for await (const line of linesOf(input)) {
    lineNumber += 1;
    if (line.trim() === "") continue; // blank lines (a trailing newline, spacing) carry no record
    const { record, prediction, golds } = parseLine(line, lineNumber);
    const score = Number(scorer(prediction, golds));
    total.count += 1;
    total.sum += score;
    await write(JSON.stringify({ ...record, score }) + "\n");
  }
  return total;
}

/** The summary goes to stderr so stdout stays pure JSONL for pipes. */
export function meanLine(metric: string, total: { count: number; sum: number }): string {
  if (total.count === 0) return `mean ${metric}: no records scored\n`;
  return `mean ${metric}: ${(total.sum / total.count).toFixed(4)} over ${total.count} record${total.count === 1 ? "" : "s"}\n`;
}

function openInput(file: string): Readable {
  if (file === "-") return process.stdin;
  return createReadStream(file);
}

export function register(program: Command): void {
  program
    .command("score")
    .description("score predictions against gold answers in a JSONL file (one {prediction, golds} per line)")
    .argument("<file>", 'JSONL file, or "-" for standard input')
    .option("-m, --metric <name>", `accuracy metric: ${METRIC_NAMES.join(" | ")}`)
    .option("--hotpot-yes-no", "f1 only: HotpotQA rule, F1 = 0 when a yes/no/noanswer answer differs")
    .addHelpText(
      "after",
      `
Input: one JSON object per line with "prediction" (string) and "golds" (list of strings); other
fields are kept. Output: each object on stdout with "score" (a number, 0/1 for match metrics) added,
and at the end the mean score on stderr ("mean em: 0.5000 over 2 records"). Blank lines are skipped. The first bad line stops the run: its number and the problem go to stderr,
lines before it have already been printed, and the exit code is 2.

Metrics:
  em          SQuAD v1.1 exact match after normalisation, best gold
  f1          SQuAD v1.1 token F1, best gold (--hotpot-yes-no for HotpotQA's rule)
  subem       Search-R1 substring match: a normalised gold inside the normalised prediction
  math_equiv  Hendrycks MATH is_equiv on the last \\boxed{...} (or the whole prediction)
  gsm8k       number after the first "#### " (commas removed) equals the gold's

Exit codes: 0 ok, 2 bad usage or bad input.
Example:
  echo '{"prediction":"The Eiffel Tower","golds":["eiffel tower"]}' | icrl score --metric em -`,
    )
    .exitOverride((error) => {
      // Commander's own usage errors (missing FILE, unknown option) exit 1 by default; ours are 2.
      process.exit(error.exitCode === 0 ? 0 : EXIT_BAD_INPUT);
    })
    .action(async (file: string, options: { metric?: string; hotpotYesNo?: boolean }) => {
      const metric = options.metric;
      if (metric === undefined || !isMetricName(metric)) {
        const given = metric === undefined ? "no --metric given" : `unknown metric "${metric}"`;
        process.stderr.write(`icrl score: ${given}; choose one of: ${METRIC_NAMES.join(", ")}\n`);
        process.exitCode = EXIT_BAD_INPUT;
        return;
      }
      const scorer = getScorer(metric, { hotpotYesNo: options.hotpotYesNo });
      const input = openInput(file);
      try {
        const total = await scoreStream(input, scorer);
        process.stderr.write(meanLine(metric, total));
      } catch (error) {
        input.destroy();
        const message =
          error instanceof BadInput ? error.message : `cannot read ${file === "-" ? "standard input" : file}: ${(error as Error).message}`;
        process.stderr.write(`icrl score: ${message}\n`);
        process.exitCode = EXIT_BAD_INPUT;
      }
    });
}
