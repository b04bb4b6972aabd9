// Reading a sandbox's processes from the host's /proc (Linux). Used to kill the sandbox from the top and
// to see whether it sat at its process limit when the clock ran out.
import { readdirSync, readFileSync } from "node:fs";

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return ""; // the process exited meanwhile
  }
}

function tasksOf(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
}

/** Direct children of a process, whichever of its threads forked them. */
export function childrenOf(pid: number): number[] {
  return tasksOf(pid).flatMap((tid) => readOrEmpty(`/proc/${pid}/task/${tid}/children`).split(/\s+/).filter(Boolean).map(Number));
}

/**
 * Threads of every process in the tree rooted at `pid`, the unit RLIMIT_NPROC counts. Inside the
 * sandbox's pid namespace every process descends from its pid 1, so this is the sandbox's whole count.
 */
export function taskCountOfTree(pid: number): number {
  let count = 0;
  const pending = [pid];
  const seen = new Set<number>();
  while (pending.length > 0) {
    const next = pending.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    count += tasksOf(next).length;
    pending.push(...childrenOf(next));
  }
  return count;
}
