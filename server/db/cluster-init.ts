// Creating a cluster's files: initdb (or a copy of a seed cluster) plus our settings file inside the
// data dir, holding the generated superuser password and the last port used.
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { prepareDataDirParents } from "./data-dir-access.js";
import { silentLogger, type DbLogger } from "./db-logger.js";
import { findPostgresBinaries, postgresRunAs, type PostgresBinaries, type RunAs } from "./postgres-runtime.js";

export const SETTINGS_FILE = "icrl-embedded.json";
export const SUPERUSER = "postgres";

export interface Settings {
  password: string;
  port: number | null;
}

/** Runs initdb into `dataDir` (which must not exist yet) without starting the cluster. */
export async function initialiseCluster(dataDir: string, options: { ephemeral?: boolean; logger?: DbLogger } = {}): Promise<void> {
  const [binaries, runAs] = await Promise.all([findPostgresBinaries(), postgresRunAs()]);
  await prepareDataDirParents(dataDir, runAs);
  await initCluster(dataDir, binaries, runAs, options.ephemeral ?? false, options.logger ?? silentLogger);
}

export async function copyCluster(seed: string, dataDir: string): Promise<void> {
  await assertFreeForCluster(dataDir);
  // cp -a keeps the owner (the postgres OS user when we are root) and the 0700 mode Postgres demands.
  await runToCompletion("cp", ["-a", seed, dataDir], null);
}

async function assertFreeForCluster(dataDir: string): Promise<void> {
  if (fs.existsSync(dataDir)) {
    if ((await fs.promises.readdir(dataDir)).length > 0) {
      throw new Error(`${dataDir} exists but is not a Postgres data directory (no PG_VERSION): move it away or choose another data directory`);
    }
    await fs.promises.rmdir(dataDir);
  }
}

export async function initCluster(
  dataDir: string,
  binaries: PostgresBinaries,
  runAs: RunAs | null,
  ephemeral: boolean,
  logger: DbLogger,
): Promise<void> {
  await assertFreeForCluster(dataDir);
  // initdb into a staging dir, then rename: a crash mid-initdb never leaves a half cluster at dataDir.
  const staging = `${dataDir}.initdb`;
  await fs.promises.rm(staging, { recursive: true, force: true });
  await fs.promises.mkdir(staging, { mode: 0o700 });
  const password = crypto.randomBytes(18).toString("hex");
  const pwFile = path.join(staging, "pwfile");
  await fs.promises.writeFile(pwFile, `${password}\n`, { mode: 0o600 });
  if (runAs) {
    await fs.promises.chown(staging, runAs.uid, runAs.gid);
    await fs.promises.chown(pwFile, runAs.uid, runAs.gid);
  }
  const stagedData = path.join(staging, "data");
  const started = Date.now();
  await runToCompletion(
    binaries.initdb,
    [
      `--pgdata=${stagedData}`,
      `--username=${SUPERUSER}`,
      `--pwfile=${pwFile}`,
      "--auth=scram-sha-256",
      "--encoding=UTF8",
      "--no-locale",
      ...(ephemeral ? ["--no-sync"] : []),
    ],
    runAs,
  );
  await writeSettings(stagedData, { password, port: null });
  await fs.promises.rename(stagedData, dataDir);
  await fs.promises.rm(staging, { recursive: true, force: true });
  logger.info({ dataDir, ms: Date.now() - started }, "embedded postgres cluster initialised");
}

function runToCompletion(command: string, args: string[], runAs: RunAs | null): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, LC_ALL: "C" },
    });
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", (error) => reject(spawnError(command, runAs, error)));
    child.once("close", (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${path.basename(command)} failed (code ${code}, signal ${signal}):\n${output.trim()}`));
    });
  });
}

export function spawnError(command: string, runAs: RunAs | null, error: Error): Error {
  const hint =
    runAs && (error as NodeJS.ErrnoException).code === "EACCES"
      ? ` OS user "${runAs.user}" must be able to reach and execute it: make the directories above it traversable (chmod o+x).`
      : "";
  return new Error(`Cannot run ${command}: ${error.message}.${hint}`);
}

export async function readSettings(dataDir: string): Promise<Settings> {
  try {
    const parsed = JSON.parse(await fs.promises.readFile(path.join(dataDir, SETTINGS_FILE), "utf8")) as Partial<Settings>;
    if (typeof parsed.password !== "string") throw new Error("no password");
    return { password: parsed.password, port: typeof parsed.port === "number" ? parsed.port : null };
  } catch (error) {
    throw new Error(
      `${dataDir} holds a Postgres cluster without a readable ${SETTINGS_FILE} (${(error as Error).message}), ` +
        `so it was not created by ICRL or was damaged: remove the directory to start afresh, or set DATABASE_URL.`,
    );
  }
}

export async function writeSettings(dataDir: string, settings: Settings): Promise<void> {
  const file = path.join(dataDir, SETTINGS_FILE);
  await fs.promises.writeFile(`${file}.tmp`, JSON.stringify(settings), { mode: 0o600 });
  await fs.promises.rename(`${file}.tmp`, file);
}
