// The demo's lifecycle (see commands/demo.ts): data dir -> server -> data on the server -> run ->
// local worker -> progress lines until the run ends -> clean stop.
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { createClient, type IcrlClient, MetricPointsDocument, RunDocument } from "../../client-sdk/src/index.js";
import { DataDirBusyError, generateSecret, liveDataDirOwner, startServer, type RunningServer } from "../../server/index.js";
import { Worker } from "../../worker/index.js";
import { LOOKUP_TEMPLATE } from "./lookup-task.js";
import { reportError, exitWith } from "../support/command.js";
import { dataDirInUse } from "../support/data-dir-in-use.js";
import { CliError, EXIT } from "../support/exit-codes.js";
import { createRunFromFile } from "../support/run-create.js";
import { styleFor } from "../support/style.js";
import type { DemoOptions } from "./demo-options.js";
import { prepareDemoFiles, type DemoFiles } from "./demo-files.js";
import { readDemoState, writeDemoState, type DemoState } from "./demo-state.js";
import { ensureServerData } from "./server-data.js";
import { fillPlaceholders, withOverrides } from "./experiment-file.js";
import { followRun } from "./progress.js";

const TERMINAL = new Set(["SUCCEEDED", "FAILED", "CANCELLED"]);
const out = (line = "") => process.stdout.write(line + "\n");

/** The run to follow: the previous start's unfinished run, or a new one from the experiment file. */
async function demoRun(
  admin: IcrlClient,
  opts: DemoOptions,
  files: DemoFiles,
  state: DemoState,
  ids: { datasetId: string; demonstrationSetId: string },
) {
  if (state.runId && !opts.newRun && opts.maxSteps === undefined && !opts.set?.length) {
    const previous = (await admin.query(RunDocument, { id: state.runId }).catch(() => null))?.run;
    if (previous && !TERMINAL.has(previous.status)) return { run: previous, continued: true };
  }
  const file = path.resolve(opts.file);
  // Overrides first, while the placeholders are still short plain strings: the inlined template
  // stays on one line in the filled-in copy.
  const overrides = [...(opts.set ?? []), ...(opts.maxSteps !== undefined ? [`maxSteps=${opts.maxSteps}`] : [])];
  const text = fillPlaceholders(withOverrides(await readFile(file, "utf8"), overrides), path.relative(process.cwd(), file) || file, {
    DEMO_DIR: files.dir,
    DATASET_ID: ids.datasetId,
    DEMONSTRATION_SET_ID: ids.demonstrationSetId,
    LOOKUP_TEMPLATE: JSON.stringify(LOOKUP_TEMPLATE),
  });
  // The filled-in copy is a plain run file; errors point at its lines (the same as the original's).
  const resolved = path.join(files.dir, "experiment.yaml");
  await writeFile(resolved, text);
  const { run } = await createRunFromFile(admin, resolved, {});
  return { run, continued: false };
}

function banner(
  server: RunningServer,
  adminKey: string,
  run: { id: string; name: string; experiment: { name: string } },
  continued: boolean,
  dataDir: string,
) {
  const style = styleFor(process.stdout);
  const base = `http://localhost:${server.port}`;
  const bin = path.relative(process.cwd(), fileURLToPath(new URL("../../bin/icrl.js", import.meta.url)));
  const rel = path.relative(process.cwd(), dataDir) || ".";
  out();
  out(
    style.bold("ICRL Lab demo") +
      ` — ${continued ? "continuing" : "training"} run ${style.bold(run.name)} (${run.id}) in experiment ${run.experiment.name}`,
  );
  out();
  out(`  Dashboard   ${base}/?key=${adminKey}`);
  out(`  GraphQL     ${base}/graphql`);
  out(`  Admin key   ${adminKey}`);
  out(`  Watch       node ${bin} run watch ${run.id} --server ${base} --token ${adminKey}`);
  out(`  Data, logs  ${rel}/ (demo.log: server and worker logs)`);
  out();
  out('A tiny model learns to answer "Code of <name>?" by searching a corpus: 3-shot, then 2-shot, then');
  out("zero-shot prompts (ICRL). One line per training step below; Ctrl-C stops cleanly.");
  out();
}

async function summary(admin: IcrlClient, runId: string): Promise<string | null> {
  const points = (await admin.query(MetricPointsDocument, { runId, keys: ["val/accuracy"], first: 1000 })).metricPoints.nodes;
  if (points.length < 2) return null;
  const first = points[0];
  const last = points[points.length - 1];
  return `zero-shot accuracy on held-out questions: ${first.value.toFixed(2)} at step ${first.step} -> ${last.value.toFixed(2)} at step ${last.step}`;
}

export async function runDemo(opts: DemoOptions): Promise<void> {
  const dataDir = path.resolve(opts.dataDir);
  // Before anything slow (pre-training the model) or any write to the directory's state.
  const owner = await liveDataDirOwner(path.join(dataDir, "pg"));
  if (owner) return void (await exitWith(reportError(dataDirInUse(opts.dataDir, owner), false)));
  await mkdir(dataDir, { recursive: true });
  const statePath = path.join(dataDir, "demo.json");
  let state = await readDemoState(statePath);
  // A new database knows none of the ids (or the worker key) a previous start recorded.
  if (!existsSync(path.join(dataDir, "pg", "PG_VERSION"))) state = { adminKey: state.adminKey };
  state.adminKey ??= process.env.ICRL_ADMIN_KEY || generateSecret();
  await writeDemoState(statePath, state);

  const logger = pino(
    { name: "icrl-demo", level: process.env.ICRL_LOG_LEVEL ?? "info", base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ dest: path.join(dataDir, "demo.log"), append: true, sync: true }),
  );

  out(`Preparing ${path.relative(process.cwd(), dataDir) || dataDir}/ ...`);
  const started = performance.now();
  const files = await prepareDemoFiles(dataDir, {
    modelSteps: opts.modelSteps,
    onBuildModel: (steps) => out(`  pre-training the demo's tiny model (${steps} steps, once; a minute or two on a laptop CPU) ...`),
  });
  for (const f of files.created) out(`  wrote ${path.basename(f)}`);
  if (files.created.includes(files.model)) out(`  model ready in ${((performance.now() - started) / 1000).toFixed(0)} s`);

  const signalsBefore = new Map((["SIGINT", "SIGTERM"] as const).map((s) => [s, new Set(process.listeners(s))]));
  let server: RunningServer;
  try {
    // The demo's own embedded database and settings: nothing from the environment (DATABASE_URL...) leaks in.
    server = await startServer(
      {
        port: opts.port,
        host: opts.host,
        dataDir: path.join(dataDir, "pg"),
        artifactDir: path.join(dataDir, "artifacts"),
        adminKey: state.adminKey,
        logLevel: "info",
      },
      { logger: logger.child({ component: "server" }), env: {} },
    );
  } catch (err) {
    if (err instanceof DataDirBusyError) return void (await exitWith(reportError(dataDirInUse(opts.dataDir, err.owner), false)));
    const code = (err as NodeJS.ErrnoException)?.code;
    const message =
      code === "EADDRINUSE"
        ? `Port ${opts.port} is in use (another server or demo?): pass --port.`
        : `The server did not start: ${(err as Error)?.message ?? err}`;
    return void (await exitWith(reportError(new CliError(message, EXIT.FAILED), false)));
  }

  const admin = createClient({ url: server.url, token: state.adminKey });
  let worker: Worker | null = null;
  let workerDone: Promise<unknown> = Promise.resolve();
  const following = new AbortController();
  let stopping: Promise<void> | null = null;
  const stop = (code: number) =>
    (stopping ??= (async () => {
      following.abort();
      worker?.stop("demo stopping");
      await workerDone.catch(() => undefined);
      await admin.close().catch(() => undefined);
      await server.stop();
      logger.flush();
      await exitWith(code);
    })());

  let interrupts = 0;
  const onSignal = () => {
    if (++interrupts > 1) {
      out("Second interrupt: quitting now (the run continues from its last checkpoint next time).");
      process.exit(130);
    }
    out("\nStopping: the worker finishes its current step, stores a checkpoint and hands the job back (Ctrl-C again to quit at once)...");
    void stop(0);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  try {
    const ids = await ensureServerData(admin, files, state);
    // Apollo (started lazily by the server, so only now surely running) installs SIGINT/SIGTERM
    // handlers that stop GraphQL at once and re-raise the signal. The demo must keep serving until
    // its worker has stored a checkpoint and released its job, so it keeps these signals to itself.
    for (const [signal, before] of signalsBefore) {
      for (const l of process.listeners(signal)) if (!before.has(l) && l !== onSignal) process.removeListener(signal, l);
    }
    await writeDemoState(statePath, state);
    const { run, continued } = await demoRun(admin, opts, files, state, ids);
    state.runId = run.id;
    await writeDemoState(statePath, state);

    worker = new Worker({
      serverUrl: server.url,
      token: ids.workerKey,
      name: "demo-worker",
      threads: opts.threads,
      gpu: opts.gpu,
      dataDir: path.join(dataDir, "worker"),
      // The demo's run names these two files; the rest of the demo directory (its database, the admin key) stays unreadable to jobs.
      allowPaths: [path.join(dataDir, "worker"), files.model, files.corpus],
      pollMs: 500,
      shutdownTimeoutMs: 60_000,
      logger: logger.child({ component: "worker" }),
    });
    // The worker only ends by itself if it cannot work at all (e.g. registration refused).
    workerDone = worker.run().then(
      () => {
        if (!stopping) {
          out("The worker stopped unexpectedly; see demo.log.");
          void stop(EXIT.FAILED);
        }
      },
      (err: unknown) => {
        if (!stopping) {
          out(`The worker failed: ${(err as Error)?.message ?? err}`);
          void stop(EXIT.FAILED);
        }
      },
    );
    banner(server, state.adminKey, run, continued, dataDir);

    const ended = await followRun(admin, run.id, { print: (line) => out(`  ${line}`), signal: following.signal });
    if (!ended) return; // stopping
    out();
    if (ended.status === "SUCCEEDED") {
      out(`Run ${ended.name} finished at step ${ended.step}.`);
      const learned = await summary(admin, run.id);
      if (learned) out(learned);
    } else {
      out(
        `Run ${ended.name} ended ${ended.status}${ended.error ? `: ${ended.error}` : ""}. See ${path.join(path.relative(process.cwd(), dataDir) || ".", "demo.log")}.`,
      );
    }
    if (opts.exitWhenDone) return void (await stop(ended.status === "SUCCEEDED" ? EXIT.OK : EXIT.FAILED));
    out("The server keeps running so you can explore the run (dashboard, `icrl run show`, rollouts). Ctrl-C to stop.");
  } catch (err) {
    if (stopping) return;
    const code = reportError(err, false);
    await stop(code);
  }
}
