import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { chmod, mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { throwawayClusterSeed } from "../../server/db/cluster-seed.js";
import { prepareDataDirParents } from "../../server/db/data-dir-access.js";
import { DataDirBusyError, ownerFileFor } from "../../server/db/data-dir-owner.js";
import { startEmbeddedPostgres } from "../../server/db/embedded-postgres.js";
import { isPidAlive } from "../../server/db/process-info.js";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const holderScript = path.join(projectRoot, "test", "db", "fixtures", "hold-embedded-postgres.ts");

let root: string;
const postmasters: number[] = [];

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "icrl-embedded-test-"));
  await chmod(root, 0o711); // Postgres may run as another OS user
});

afterAll(async () => {
  // A failed assertion must not leave servers behind.
  for (const pid of postmasters) if (isPidAlive(pid)) process.kill(pid, "SIGQUIT");
  await rm(root, { recursive: true, force: true });
});

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

function startHolder(dataDir: string): { child: ChildProcess; ready: Promise<{ url: string; postmasterPid: number }> } {
  const child = spawn(process.execPath, ["--import", "tsx", holderScript, dataDir], {
    cwd: projectRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const ready = new Promise<{ url: string; postmasterPid: number }>((resolve, reject) => {
    let stdout = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes("\n")) resolve(JSON.parse(stdout.split("\n")[0]));
    });
    child.once("exit", (code) => reject(new Error(`holder exited early (code ${code}): ${stderr}`)));
  });
  return { child, ready };
}

// One data dir for the whole file: only the first start creates a cluster. `ephemeral` (fsync off)
// keeps the suite fast; durability itself is not what these tests are about.
const sharedDir = () => path.join(root, "cluster", "pg");

describe("startEmbeddedPostgres", () => {
  it("initialises once, then restarts on the same data, port and URL; stop() is idempotent", async () => {
    const dataDir = sharedDir();
    // Seeded from the cached initialised cluster: initdb itself is exercised by database.test.ts.
    const first = await startEmbeddedPostgres({ dataDir, ephemeral: true, seedFrom: (await throwawayClusterSeed()) ?? undefined });
    postmasters.push(first.pid);
    expect(first.url).toMatch(/^postgresql:\/\/postgres:[0-9a-f]+@127\.0\.0\.1:\d+\/icrl$/);
    await query(first.url, "CREATE TABLE notes (body text)");
    await query(first.url, "INSERT INTO notes VALUES ('kept across restarts')");
    await first.stop();
    await first.stop();
    expect(isPidAlive(first.pid)).toBe(false);
    expect(existsSync(ownerFileFor(dataDir))).toBe(false);

    const second = await startEmbeddedPostgres({ dataDir, ephemeral: true });
    postmasters.push(second.pid);
    try {
      expect(second.url).toBe(first.url);
      expect(await query(second.url, "SELECT body FROM notes")).toEqual([{ body: "kept across restarts" }]);
    } finally {
      await second.stop();
    }
  });

  it("refuses while another live process owns the data dir, and recovers after that process is SIGKILLed", async () => {
    const dataDir = sharedDir();
    const holder = startHolder(dataDir);
    const { postmasterPid } = await holder.ready;
    postmasters.push(postmasterPid);

    const refusal = await startEmbeddedPostgres({ dataDir }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(DataDirBusyError);
    expect((refusal as Error).message).toContain(`pid ${holder.child.pid}`);

    holder.child.kill("SIGKILL");
    await once(holder.child, "exit");
    expect(isPidAlive(postmasterPid)).toBe(true); // Postgres outlives its killed parent

    const db = await startEmbeddedPostgres({ dataDir, ephemeral: true });
    postmasters.push(db.pid);
    try {
      expect(isPidAlive(postmasterPid)).toBe(false);
      expect(db.pid).not.toBe(postmasterPid);
      expect(await query(db.url, "SELECT note FROM survivors")).toEqual([{ note: "written before the crash" }]);
    } finally {
      await db.stop();
    }
  });

  it("refuses a second start in the same process and a running Postgres it did not start", async () => {
    const dataDir = sharedDir();
    const db = await startEmbeddedPostgres({ dataDir, database: "other", ephemeral: true });
    postmasters.push(db.pid);
    try {
      expect(db.url.endsWith("/other")).toBe(true);
      await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(/in use by another live process .*this process/);

      await rm(ownerFileFor(dataDir)); // the running postmaster now has no ICRL owner record
      await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(`A Postgres server (pid ${db.pid}) is already running`);
      expect(isPidAlive(db.pid)).toBe(true); // left alone
      expect(await query(db.url, "SELECT 1 AS ok")).toEqual([{ ok: 1 }]);
    } finally {
      await db.stop();
    }
  });
});

describe("prepareDataDirParents", () => {
  const stranger = { uid: 54321, gid: 54321, user: "someone-else" };

  it("makes the directories it creates traversable for the Postgres user", async () => {
    const base = await mkdtemp(path.join(root, "parents-"));
    await chmod(base, 0o711);
    await prepareDataDirParents(path.join(base, "a", "b", "pg"), stranger);
    for (const dir of [path.join(base, "a"), path.join(base, "a", "b")]) {
      expect((await stat(dir)).mode & 0o001).toBe(0o001);
    }
  });

  it("names an existing directory the Postgres user cannot enter", async () => {
    const base = await mkdtemp(path.join(root, "locked-"));
    await chmod(base, 0o711);
    const locked = path.join(base, "private");
    await mkdir(locked, { mode: 0o700 });
    await chmod(locked, 0o700);
    await expect(prepareDataDirParents(path.join(locked, "x", "pg"), stranger)).rejects.toThrow(`cannot enter ${locked} (mode 700)`);
  });
});
