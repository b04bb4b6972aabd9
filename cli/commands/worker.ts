// `icrl worker`: run a worker process that claims and runs jobs from a server until stopped.
// SIGTERM / SIGINT stop it gracefully (finish the batch, deliver results, release the job, exit 0);
// a second signal exits at once.
import { accessSync, constants, statSync } from "node:fs";
import path from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import { clientAction, withConnection } from "../support/command.js";

const EXIT_FAILURE = 1;
const EXIT_BAD_INPUT = 2;

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`--${name} must be a positive integer`);
    return n;
  };
}

function kindList(value: string): ("EVAL" | "TRAIN")[] {
  const kinds = value
    .split(",")
    .map((k) => k.trim().toUpperCase())
    .filter(Boolean);
  for (const k of kinds) if (k !== "EVAL" && k !== "TRAIN") throw new InvalidArgumentError(`unknown job kind ${k} (expected EVAL or TRAIN)`);
  if (kinds.length === 0) throw new InvalidArgumentError("--kinds needs at least one kind");
  return kinds as ("EVAL" | "TRAIN")[];
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** --allow-path (repeatable) > ICRL_ALLOW_PATHS (path-delimiter separated) > the worker's defaults. */
function allowPaths(flag: string[] | undefined): string[] | undefined {
  if (flag?.length) return flag;
  const env = process.env.ICRL_ALLOW_PATHS?.split(path.delimiter).filter(Boolean);
  return env?.length ? env : undefined;
}

function gpuChoice(value: string): "auto" | "cuda" | "vulkan" | "metal" | false {
  if (value === "cpu" || value === "false" || value === "none") return false;
  if (value === "auto" || value === "cuda" || value === "vulkan" || value === "metal") return value;
  throw new InvalidArgumentError("--gpu must be auto, cuda, vulkan, metal or cpu");
}

interface WorkerCliOptions {
  server?: string;
  token?: string;
  name?: string;
  threads?: number;
  kinds?: ("EVAL" | "TRAIN")[];
  pollMs?: number;
  maxPollMs?: number;
  dataDir?: string;
  gpu: "auto" | "cuda" | "vulkan" | "metal" | false;
  heartbeatMs?: number;
  shutdownTimeoutMs: number;
  maxJobs?: number;
  concurrency: number;
  logLevel?: string;
  python?: string;
  allowPath?: string[];
}

/** The learner's interpreter must exist before the first TRAIN job, not fail it minutes later. */
function pythonProblem(python: string): string | null {
  try {
    if (!statSync(python).isFile()) return `--python ${python} is not a file`;
    accessSync(python, constants.X_OK);
    return null;
  } catch {
    return `--python ${python} is not an executable file`;
  }
}

export function register(program: Command): void {
  const worker = program
    .command("worker")
    .description("run a worker: register with the server, then claim and run jobs (TRAIN and EVAL) until stopped")
    .option("--server <url>", "server URL (env ICRL_SERVER)")
    .option("--token <key>", "WORKER-role registration key, or a worker token (env ICRL_WORKER_KEY)")
    .option("--name <name>", "worker name shown on the server (default: host name)")
    .option("--threads <n>", "CPU threads per llama.cpp context (default: cores - 1)", positiveInt("threads"))
    .option("--kinds <list>", "job kinds to claim, comma-separated (default: every kind this worker can run)", kindList)
    .option("--poll-ms <ms>", "first idle poll delay; doubles while idle (a jobAvailable event wakes the worker at once)", positiveInt("poll-ms"))
    .option("--max-poll-ms <ms>", "longest idle poll delay", positiveInt("max-poll-ms"))
    .option("--data-dir <dir>", "this worker's private directory (default .icrl/worker/<name>)")
    .option("--gpu <backend>", "auto, cuda, vulkan, metal or cpu", gpuChoice, "auto")
    .option("--heartbeat-ms <ms>", "lease heartbeat interval (default: a third of the lease)", positiveInt("heartbeat-ms"))
    .option("--shutdown-timeout-ms <ms>", "how long a graceful stop may take", positiveInt("shutdown-timeout-ms"), 120_000)
    .option("--max-jobs <n>", "exit after this many jobs (per slot with --concurrency)", positiveInt("max-jobs"))
    .option(
      "--concurrency <n>",
      "run N jobs at once: N workers in this process (<name>-1..N, data dirs <data-dir>/slot-1..N), the cores shared out; at most one per core",
      positiveInt("concurrency"),
      1,
    )
    .option("--log-level <level>", "fatal, error, warn, info, debug, trace or silent (env ICRL_LOG_LEVEL)")
    .option(
      "--allow-path <dir>",
      "a directory (or file) jobs may read model, corpus and search-cache paths from; repeatable (env ICRL_ALLOW_PATHS, separated by " +
        `"${path.delimiter}"; default: the data dir, .icrl/models and .icrl/data)`,
      collect,
    )
    .option("--python <path>", "Python with torch 2.x for the learner, e.g. a CUDA venv's bin/python (env ICRL_PYTHON; default /usr/bin/python3)")
    .addHelpText(
      "after",
      "\nLogs are JSON lines (pino) on stdout. Exit codes: 0 stopped cleanly, 1 failure, 2 bad usage, 9 a required part is missing (see icrl doctor).",
    )
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : EXIT_BAD_INPUT))
    .action(async (opts: WorkerCliOptions) => {
      const server = opts.server ?? process.env.ICRL_SERVER;
      const token = opts.token ?? process.env.ICRL_WORKER_KEY;
      if (!server || !token) {
        process.stderr.write("icrl worker: --server and --token are required (or ICRL_SERVER and ICRL_WORKER_KEY)\n");
        process.exit(EXIT_BAD_INPUT);
      }
      if (opts.python) {
        const problem = pythonProblem(opts.python);
        if (problem) {
          process.stderr.write(`icrl worker: ${problem}; give the python of an environment with torch, e.g. --python .venv/bin/python\n`);
          process.exit(EXIT_BAD_INPUT);
        }
        // The learner driver reads ICRL_PYTHON when it starts, in this process.
        process.env.ICRL_PYTHON = opts.python;
      }
      const { preflight } = await import("../doctor/preflight.js");
      const { learnerPython } = await import("../doctor/python-torch.js");
      await preflight("worker", {
        python: learnerPython(opts.python),
        dataDir: opts.dataDir ?? path.join(".icrl", "worker"),
        needsTorch: !opts.kinds || opts.kinds.includes("TRAIN"),
      });
      const { WorkerPool } = await import("../../worker/index.js");
      // server/logger.ts is the project's one pino factory and loads nothing of the server.
      const { createLogger } = await import("../../server/logger.js");
      const logger = createLogger({ name: "icrl-worker", level: opts.logLevel });
      let worker;
      try {
        worker = new WorkerPool(
          {
            serverUrl: server,
            token,
            name: opts.name,
            threads: opts.threads,
            kinds: opts.kinds,
            pollMs: opts.pollMs,
            maxPollMs: opts.maxPollMs,
            dataDir: opts.dataDir,
            allowPaths: allowPaths(opts.allowPath),
            gpu: opts.gpu,
            heartbeatMs: opts.heartbeatMs,
            shutdownTimeoutMs: opts.shutdownTimeoutMs,
            maxJobs: opts.maxJobs,
            logger,
          },
          opts.concurrency,
        );
      } catch (error) {
        process.stderr.write(`icrl worker: ${(error as Error).message}\n`);
        process.exit(EXIT_BAD_INPUT);
      }
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        signals++;
        if (signals > 1) {
          logger.warn({ signal }, "second signal: exiting without releasing the job");
          process.exit(EXIT_FAILURE);
        }
        worker.stop(signal);
      };
      process.on("SIGTERM", onSignal);
      process.on("SIGINT", onSignal);
      try {
        const summaries = await worker.run();
        process.exit(summaries.every((s) => s.clean) ? 0 : EXIT_FAILURE);
      } catch (error) {
        logger.fatal({ err: (error as Error).message }, "worker failed");
        process.exit(EXIT_FAILURE);
      }
    });

  withConnection(worker.command("list").description("list registered workers: status, backend (cuda, vulkan, metal, cpu), last heartbeat")).action(
    clientAction(async (client, opts) => {
      const { WorkersDocument } = await import("../../client-sdk/src/index.js");
      const { printJson, table, formatTime } = await import("../support/output.js");
      const { styleFor } = await import("../support/style.js");
      const workers = (await client.query(WorkersDocument, {})).workers;
      if (opts.json) return printJson(workers);
      const style = styleFor();
      // capabilities is what the worker reported at registration; older or hand-made ones may lack a backend.
      const backend = (caps: unknown) => {
        const b = (caps as { backend?: unknown } | null)?.backend;
        return typeof b === "string" ? b : "-";
      };
      process.stdout.write(
        table(
          [
            { header: "ID", value: (w) => style.dim(w.id) },
            { header: "NAME", value: (w) => style.bold(w.name) },
            { header: "STATUS", value: (w) => (w.status === "ONLINE" ? style.green(w.status) : style.dim(w.status)) },
            { header: "BACKEND", value: (w) => backend(w.capabilities) },
            { header: "LAST SEEN", value: (w) => formatTime(w.lastSeenAt) },
          ],
          workers,
        ),
      );
    }),
  );
}
