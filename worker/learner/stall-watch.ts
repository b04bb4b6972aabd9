// Notices a learner process that is stopped (SIGSTOP, a debugger, a job-control Ctrl-Z) while a request
// waits on it. Without this the request waits for its timeout (10 minutes for a step, an hour for
// pre-training) and nothing is logged in between. The process state comes from /proc/<pid>/stat
// (Linux); where there is no /proc the watch does nothing and the request timeouts remain.
//
// Only the stopped state counts: a learner that uses no CPU for a while may be waiting on a GPU
// kernel or a disk, which is work, not a stall.
import { readFileSync } from "node:fs";

export const DEFAULT_STALL_MS = 20_000;
const POLL_MS = 1000;

/** The one-letter state of a process ("R", "S", "D", "T" stopped, "t" traced...), or null. */
export function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) S ...": comm may hold spaces and parentheses, so read after the last ')'.
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) || null;
  } catch {
    return null;
  }
}

export interface StallWatch {
  stop(): void;
}

/**
 * Calls `onStall` once the process has been stopped for `stallMs` while `busy()` says a request is
 * waiting; `onStopped` as soon as it is first seen stopped (to log it).
 */
export function watchForStall(options: {
  pid: number;
  busy: () => boolean;
  stallMs: number;
  onStopped: (state: string) => void;
  onStall: (stoppedForMs: number) => void;
}): StallWatch {
  let stoppedSince: number | null = null;
  const timer = setInterval(
    () => {
      const state = options.busy() ? processState(options.pid) : null;
      if (state !== "T" && state !== "t") {
        stoppedSince = null;
        return;
      }
      const now = Date.now();
      if (stoppedSince === null) {
        stoppedSince = now;
        options.onStopped(state);
      }
      if (now - stoppedSince >= options.stallMs) {
        clearInterval(timer);
        options.onStall(now - stoppedSince);
      }
    },
    Math.min(POLL_MS, Math.max(50, options.stallMs / 4)),
  );
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
