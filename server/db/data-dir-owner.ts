// Ownership of an embedded Postgres data directory by one Node process at a time.
// Postgres' own postmaster.pid only says which postmaster runs; it cannot say whether the Node
// process that started it is still alive. After a SIGKILL of Node the postmaster keeps running
// orphaned, so we keep our own owner file next to the data dir: {pid, start time, postmaster pid}.
// A record whose Node process is gone is stale; its postmaster pid tells us the orphan is ours.
import fs from "node:fs";
import os from "node:os";
import { isSameProcessAlive, processStartTime } from "./process-info.js";

export interface OwnerRecord {
  pid: number;
  startTime: string | null;
  host: string;
  since: string;
  postmasterPid?: number;
}

export class DataDirBusyError extends Error {
  constructor(
    readonly dataDir: string,
    readonly owner: OwnerRecord,
  ) {
    super(
      `Embedded Postgres data directory ${dataDir} is in use by another live process ` +
        `(pid ${owner.pid}${owner.pid === process.pid ? ", this process" : ""}, since ${owner.since}). ` +
        `Stop that process first, or use another data directory or DATABASE_URL.`,
    );
    this.name = "DataDirBusyError";
  }
}

export interface DataDirOwnership {
  /** The stale record of a previous owner that died without cleaning up, if any. */
  readonly previous: OwnerRecord | null;
  recordPostmaster(pid: number): Promise<void>;
  release(): Promise<void>;
}

export function ownerFileFor(dataDir: string): string {
  return `${dataDir}.owner.json`;
}

/** The live process that holds `dataDir` now, if any: lets a command refuse before any slow work. */
export async function liveDataDirOwner(dataDir: string): Promise<OwnerRecord | null> {
  const existing = await readRecord(ownerFileFor(dataDir));
  return existing && isSameProcessAlive(existing.pid, existing.startTime) ? existing : null;
}

/** Takes ownership of `dataDir` or throws DataDirBusyError when a live process holds it. */
export async function acquireDataDirOwnership(dataDir: string): Promise<DataDirOwnership> {
  const file = ownerFileFor(dataDir);
  const mine: OwnerRecord = {
    pid: process.pid,
    startTime: processStartTime(process.pid),
    host: os.hostname(),
    since: new Date().toISOString(),
  };
  let previous: OwnerRecord | null = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await createExclusively(file, mine)) return ownership(file, mine, previous);
    const existing = await readRecord(file);
    if (existing && isSameProcessAlive(existing.pid, existing.startTime)) throw new DataDirBusyError(dataDir, existing);
    // Stale: its Node process is gone. Remember it (its postmaster may still run) and replace it.
    previous = existing ?? previous;
    await fs.promises.rm(file, { force: true });
  }
  throw new Error(`Could not take ownership of ${dataDir}: ${file} keeps changing (another process starting?)`);
}

function ownership(file: string, mine: OwnerRecord, previous: OwnerRecord | null): DataDirOwnership {
  let released = false;
  return {
    previous,
    async recordPostmaster(pid) {
      mine.postmasterPid = pid;
      const tmp = `${file}.${process.pid}.tmp`;
      await fs.promises.writeFile(tmp, JSON.stringify(mine), { mode: 0o600 });
      await fs.promises.rename(tmp, file);
    },
    async release() {
      if (released) return;
      released = true;
      const current = await readRecord(file);
      // Never delete a record that someone else wrote after us.
      if (current && current.pid === mine.pid && current.since === mine.since) await fs.promises.rm(file, { force: true });
    },
  };
}

/** Atomic create-if-absent: write a private temp file, then hard-link it into place. */
async function createExclusively(file: string, record: OwnerRecord): Promise<boolean> {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await fs.promises.writeFile(tmp, JSON.stringify(record), { mode: 0o600 });
  try {
    await fs.promises.link(tmp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    await fs.promises.rm(tmp, { force: true });
  }
}

async function readRecord(file: string): Promise<OwnerRecord | null> {
  try {
    const parsed = JSON.parse(await fs.promises.readFile(file, "utf8")) as Partial<OwnerRecord>;
    if (typeof parsed.pid !== "number") return null;
    return {
      pid: parsed.pid,
      startTime: parsed.startTime ?? null,
      host: parsed.host ?? "",
      since: parsed.since ?? "",
      postmasterPid: parsed.postmasterPid,
    };
  } catch {
    return null;
  }
}
