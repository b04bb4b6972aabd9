// What we can learn about another process from its pid. Pids are recycled (a container restart
// hands out the same low pids again), so "a process with this pid exists" is paired with the
// process's start time whenever /proc can tell us, to avoid mistaking a stranger for an owner.
import fs from "node:fs";

export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  // An exited child that nobody reaped yet (a zombie) still answers kill(0).
  return procStatFields(pid)?.[0] !== "Z";
}

/** Fields of /proc/<pid>/stat after the command name: [0] = state, [19] = start time. */
function procStatFields(pid: number): string[] | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses: split after the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/** Start time of a process in clock ticks since boot (Linux), or null where /proc is unavailable. */
export function processStartTime(pid: number): string | null {
  return procStatFields(pid)?.[19] ?? null; // field 22 overall
}

/** True when `pid` is alive and, where knowable, is the same process that had `startTime`. */
export function isSameProcessAlive(pid: number, startTime: string | null | undefined): boolean {
  if (!isPidAlive(pid)) return false;
  if (!startTime) return true;
  const now = processStartTime(pid);
  return now === null || now === startTime;
}

/** Working directory of a process (Linux), or null when unknown. Postgres chdirs into its data dir. */
export function processCwd(pid: number): string | null {
  try {
    return fs.readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return null;
  }
}

export async function waitForPidExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isPidAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return true;
}

/** Blocking variant for process 'exit' handlers, where no event loop turn is left. */
export function waitForPidExitSync(pid: number, timeoutMs: number): boolean {
  const deadline = Date.now() + timeoutMs;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  while (isPidAlive(pid)) {
    if (Date.now() > deadline) return false;
    Atomics.wait(sleeper, 0, 0, 20);
  }
  return true;
}
