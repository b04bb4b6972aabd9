// Runs one sandbox process to completion: feeds the code on its descriptor, captures stdout and stderr
// under one byte budget, and kills the sandbox on the wall-clock deadline, on the output cap or on abort.
// Python runs as the init (pid 1) of the sandbox's pid namespace: killing it ends every process inside,
// even ones that called setsid(); bwrap's --die-with-parent does the same if the outer bwrap dies first.
import { spawn } from "node:child_process";
import type { Writable } from "node:stream";
import { OutputBudget } from "./output-budget.js";
import { childrenOf, taskCountOfTree } from "./process-tree.js";
import { CODE_FD } from "./sandbox-command.js";

export interface ProcessRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  outputLimited: boolean;
  aborted: boolean;
  /** Threads and processes the sandbox held when the wall clock ran out (a fork bomb sits at its limit). */
  tasksAtTimeout?: number;
  /** Set when the process could not be started at all. */
  spawnError?: string;
  durationMs: number;
}

export interface RunProcessOptions {
  file: string;
  args: string[];
  code: string;
  timeoutMs: number;
  outputBytes: number;
  signal?: AbortSignal;
}

// Both delays are fallbacks that only matter if something is broken: after the namespace init is killed,
// bwrap exits within a few hundred milliseconds (a fork bomb of 64 processes on a loaded 2-core machine
// took ~300 ms). If it has not, the whole process group is killed; if the pipes are still open after
// that, the call gives up on them, so a call can never hang.
const GROUP_KILL_DELAY_MS = 5_000;
const CLOSE_GRACE_MS = 7_000;

export function runProcess(options: RunProcessOptions): Promise<ProcessRun> {
  const started = performance.now();
  return new Promise((resolve) => {
    const budget = new OutputBudget(options.outputBytes);
    let timedOut = false;
    let outputLimited = false;
    let aborted = false;
    let settled = false;
    let graceTimer: NodeJS.Timeout | undefined;
    let deadline: NodeJS.Timeout | undefined;
    let groupTimer: NodeJS.Timeout | undefined;
    let tasksAtTimeout: number | undefined;

    const child = spawn(options.file, options.args, {
      stdio: ["ignore", "pipe", "pipe", "pipe"],
      // Own process group, so one kill(-pid) reaches prlimit/setpriv/bwrap whatever has exec'd so far.
      detached: true,
      // Nothing of the host environment (tokens, paths) may reach the sandbox; bwrap also clears it.
      env: {},
      cwd: "/",
    });

    const finish = (run: Pick<ProcessRun, "exitCode" | "signal" | "spawnError">) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(graceTimer);
      clearTimeout(groupTimer);
      options.signal?.removeEventListener("abort", onAbort);
      resolve({
        ...run,
        ...budget.text(),
        timedOut,
        outputLimited,
        aborted,
        ...(tasksAtTimeout !== undefined && { tasksAtTimeout }),
        durationMs: performance.now() - started,
      });
    };

    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    };
    const kill = () => {
      if (graceTimer) return;
      // The namespace's init (bwrap's only child) goes first, so bwrap reaps it and exits on its own.
      // Killing bwrap first would leave the init as a zombie wherever pid 1 does not reap orphans.
      const inner = child.pid === undefined ? [] : childrenOf(child.pid);
      for (const pid of inner) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      if (inner.length === 0) killGroup();
      else groupTimer = setTimeout(killGroup, GROUP_KILL_DELAY_MS);
      graceTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish({ exitCode: child.exitCode, signal: child.signalCode ?? "SIGKILL" });
      }, CLOSE_GRACE_MS);
    };

    deadline = setTimeout(() => {
      timedOut = true;
      // The sandbox's pid 1 is bwrap's only child.
      const sandboxInit = child.pid === undefined ? undefined : childrenOf(child.pid)[0];
      if (sandboxInit !== undefined) tasksAtTimeout = taskCountOfTree(sandboxInit);
      kill();
    }, options.timeoutMs);

    const onAbort = () => {
      aborted = true;
      kill();
    };
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener("abort", onAbort, { once: true });

    const capture = (target: Buffer[]) => (chunk: Buffer) => {
      if (outputLimited) return;
      if (!budget.add(target, chunk)) {
        outputLimited = true;
        kill();
      }
    };
    child.stdout!.on("data", capture(budget.stdout));
    child.stderr!.on("data", capture(budget.stderr));

    const codeStream = child.stdio[CODE_FD] as Writable;
    // bwrap reads the code before starting Python; if it dies first the write fails with EPIPE, which
    // the exit status already reports.
    codeStream.on("error", () => {});
    codeStream.end(options.code);

    child.on("error", (error) => {
      finish({ exitCode: null, signal: null, spawnError: error.message });
    });
    child.on("close", (exitCode, signal) => finish({ exitCode, signal }));
  });
}
