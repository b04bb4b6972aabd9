// Reading a Postgres data directory's postmaster.pid, and stopping a postmaster we do not hold a
// ChildProcess handle for (an orphan left by a Node process that was killed).
import fs from "node:fs";
import path from "node:path";
import { isPidAlive, processCwd, waitForPidExit } from "./process-info.js";

export interface PostmasterPidFile {
  pid: number;
  dataDir: string;
  port: number;
  /** "starting", "ready", "stopping" or "standby" (Postgres >= 10 writes it on line 8). */
  status: string;
}

export function readPostmasterPid(dataDir: string): PostmasterPidFile | null {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dataDir, "postmaster.pid"), "utf8");
  } catch {
    return null;
  }
  const lines = text.split("\n");
  const pid = Number.parseInt(lines[0] ?? "", 10);
  if (!Number.isInteger(pid)) return null;
  return {
    pid,
    dataDir: lines[1] ?? "",
    port: Number.parseInt(lines[3] ?? "", 10),
    status: (lines[7] ?? "").trim(),
  };
}

/** Whether `pid` is a live postmaster serving `dataDir` (and not a recycled pid). */
export function isPostmasterOf(pid: number, dataDir: string, pidFile: PostmasterPidFile): boolean {
  if (!isPidAlive(pid)) return false;
  const cwd = processCwd(pid);
  if (cwd === null) return path.resolve(pidFile.dataDir) === path.resolve(dataDir);
  return sameDir(cwd, dataDir);
}

function sameDir(a: string, b: string): boolean {
  try {
    return fs.realpathSync(a) === fs.realpathSync(b);
  } catch {
    return false;
  }
}

/** Fast shutdown (SIGINT: roll back open transactions, checkpoint, exit), escalating if it hangs. */
export async function stopPostmasterByPid(pid: number, timeoutMs = 30_000): Promise<void> {
  const steps: Array<[NodeJS.Signals, number]> = [
    ["SIGINT", timeoutMs],
    ["SIGQUIT", 5_000], // immediate shutdown: crash recovery runs on the next start
  ];
  for (const [signal, waitMs] of steps) {
    try {
      process.kill(pid, signal);
    } catch {
      return; // already gone
    }
    if (await waitForPidExit(pid, waitMs)) return;
  }
  throw new Error(`Postgres postmaster (pid ${pid}) did not stop after SIGINT and SIGQUIT`);
}
