// `icrl demo` (what `npm start` runs): everything on one machine, nothing to configure. It starts
// the server on an embedded database, generates a tiny model and a small search task, imports the
// data, creates a run from examples/demo-experiment.yaml, runs a local worker, and prints where to
// watch the model learn. Ctrl-C stops the worker at a step boundary (checkpoint, job handed back) and
// then the server; the next start continues the same run from its checkpoint.
//
// Everything lives in the data directory (default .icrl/demo): pg/ (database), artifacts/, the
// generated model and data, worker/, demo.log (JSON logs of server and worker), demo.json (the keys
// and ids of what was imported, so later starts reuse them), experiment.yaml (the filled-in run file).
import { InvalidArgumentError, Option, type Command } from "commander";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { DemoOptions } from "../demo/demo-options.js";

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const DEFAULT_FILE = path.join(PROJECT_ROOT, "examples", "demo-experiment.yaml");

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`--${name} must be a positive integer`);
    return n;
  };
}

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 65535) throw new InvalidArgumentError("--port must be a port number (0 picks a free one)");
  return n;
}

function gpuChoice(value: string): "auto" | "cuda" | "vulkan" | "metal" | false {
  if (value === "cpu") return false;
  if (value === "auto" || value === "cuda" || value === "vulkan" || value === "metal") return value;
  throw new InvalidArgumentError("--gpu must be auto, cuda, vulkan, metal or cpu");
}

export function register(program: Command): void {
  program
    .command("demo")
    .description("start a server, a local worker and an ICRL training run on a small search task, and watch a tiny model learn to use the tool")
    .option("--port <port>", "HTTP port of the server", port, 4000)
    .option("--host <host>", "interface to listen on (the admin key is printed: keep it local)", "127.0.0.1")
    .option("--data-dir <dir>", "where the demo keeps its database, artifacts, model and data", path.join(".icrl", "demo"))
    .addOption(
      new Option("--file <file>", "experiment file (placeholders: see the file's header)").default(DEFAULT_FILE, "examples/demo-experiment.yaml"),
    )
    .option("--max-steps <n>", "end the run after this many training steps (starts a new run)", positiveInt("max-steps"))
    .option(
      "--set <path=value>",
      "change a setting of the experiment file's config, e.g. grpo.lr=0.01 (repeatable; starts a new run)",
      (v: string, all: string[] = []) => [...all, v],
    )
    .option("--exit-when-done", "stop the worker and the server once the run has finished (exit 0 if it succeeded)")
    .option("--new-run", "start a new run even when the previous demo run has not finished")
    .option("--threads <n>", "CPU threads for llama.cpp (default: cores - 1)", positiveInt("threads"))
    .option("--gpu <backend>", "auto, cuda, vulkan, metal or cpu", gpuChoice, "auto")
    .option("--model-steps <n>", "pre-training steps when the demo model is first built (default 160)", positiveInt("model-steps"))
    .addHelpText(
      "after",
      `
Later starts reuse the data directory: the same admin key, dataset and run (an unfinished run
continues from its last checkpoint). Delete the directory to start over.
Exit codes: 0 stopped cleanly (or, with --exit-when-done, the run succeeded), 1 failure, 2 bad usage,
9 a required part is missing (torch, disk; see icrl doctor).`,
    )
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))
    .action(async (opts: DemoOptions) => {
      const { SUPERVISED_ENV, superviseDemo } = await import("../demo/supervise.js");
      const { preflight } = await import("../doctor/preflight.js");
      const { learnerPython } = await import("../doctor/python-torch.js");
      // Before anything is created: without torch the demo would die pre-training its model.
      if (!process.env[SUPERVISED_ENV]) await preflight("demo", { python: learnerPython(), dataDir: opts.dataDir });
      if (process.stdin.isTTY && !process.env[SUPERVISED_ENV]) await superviseDemo();
      const { runDemo } = await import("../demo/run-demo.js");
      await runDemo(opts);
    });
}
