// Turns how a Python run ended into a tool error code. The signatures are what CPython prints when the
// sandbox's limits bite, so the same rules classify runs of the local sandbox and of SandboxFusion.
import { constants } from "node:os";
import type { ToolError } from "../result.js";
import { cpuSecondsFor, type PythonLimits } from "./limits.js";
import type { ProcessRun } from "./run-process.js";

// fork()/thread creation past RLIMIT_NPROC fails with EAGAIN.
const PROCESS_LIMIT_SIGNATURE = /BlockingIOError: \[Errno 11\]|Resource temporarily unavailable|can't start new thread/;
// Allocation past RLIMIT_AS: MemoryError (numpy raises _ArrayMemoryError), ENOMEM, or the loader failing.
const MEMORY_SIGNATURE = /MemoryError\b|\[Errno 12\] Cannot allocate memory|failed to map segment from shared object|std::bad_alloc/;
const FORBIDDEN_SIGNATURES: Array<[RegExp, string]> = [
  [
    /^ConnectionRefusedError|Connection refused|Network is unreachable|name resolution|Name or service not known|\[Errno 97\]/,
    "the sandbox has no network access",
  ],
  [/\[Errno 30\] Read-only file system/, "the sandbox's file system is read-only outside /tmp"],
  [/^PermissionError|\[Errno 1\] Operation not permitted|\[Errno 13\] Permission denied/, "operation not permitted inside the sandbox"],
];
// Messages of the sandbox's own programs: they mean Python never started.
const LAUNCHER_FAILURE = /^(bwrap|prlimit|setpriv): /;

/** The last line of a traceback: the exception type and message. */
export function finalErrorLine(stderr: string): string {
  const lines = stderr.split("\n").filter((line) => line.trim() !== "" && !/^\s/.test(line));
  return lines.at(-1)?.trim() ?? "";
}

/** Classifies a Python run that did not succeed, from what it printed on stderr. */
export function classifyPythonFailure(
  stderr: string,
  limits: Pick<PythonLimits, "memoryMb" | "maxProcesses">,
  fallbackMessage = "the code failed",
): ToolError {
  if (PROCESS_LIMIT_SIGNATURE.test(stderr)) {
    return { code: "PROCESS_LIMIT", message: `the code hit the limit of ${limits.maxProcesses} processes` };
  }
  if (MEMORY_SIGNATURE.test(stderr)) {
    return { code: "MEMORY_LIMIT", message: `the code hit the ${limits.memoryMb} MB memory limit` };
  }
  const last = finalErrorLine(stderr);
  for (const [signature, reason] of FORBIDDEN_SIGNATURES) {
    if (signature.test(last)) return { code: "FORBIDDEN", message: `${reason} (${last})` };
  }
  return { code: "RUNTIME_ERROR", message: last || fallbackMessage };
}

function signalName(number: number): string {
  const entry = Object.entries(constants.signals).find(([, value]) => value === number);
  return entry ? entry[0] : `signal ${number}`;
}

/**
 * Classifies a finished run of any runner (local sandbox or SandboxFusion): undefined when it succeeded,
 * otherwise the error to report. Resource signatures win over the symptom they cause: a fork bomb that
 * also floods stderr or runs out the clock is a PROCESS_LIMIT.
 */
export function classifyRun(run: ProcessRun, limits: PythonLimits): ToolError | undefined {
  if (run.spawnError !== undefined) {
    return { code: "UNAVAILABLE", message: `could not start the sandbox: ${run.spawnError}` };
  }
  if (run.aborted) return { code: "TIMEOUT", message: "the call was aborted by the caller" };
  if (run.exitCode === 0 && !run.timedOut && !run.outputLimited) return undefined;
  if (PROCESS_LIMIT_SIGNATURE.test(run.stderr) || MEMORY_SIGNATURE.test(run.stderr)) {
    return classifyPythonFailure(run.stderr, limits);
  }
  if (run.outputLimited) {
    return { code: "OUTPUT_LIMIT", message: `output exceeded ${limits.outputBytes} bytes; the code was stopped` };
  }
  if (run.timedOut) return { code: "TIMEOUT", message: `the code exceeded the ${limits.timeoutS} s time limit` };
  return classifyPythonFailure(run.stderr, limits, `the code exited with status ${run.exitCode}`);
}

/** classifyRun plus what only the local sandbox's exit statuses tell. */
export function classifyLocalRun(run: ProcessRun, limits: PythonLimits): ToolError | undefined {
  const settled = run.spawnError === undefined && !run.aborted && !run.timedOut && !run.outputLimited;
  if (settled && run.exitCode !== 0) {
    if (run.stdout === "" && LAUNCHER_FAILURE.test(run.stderr)) {
      return { code: "UNAVAILABLE", message: `the sandbox failed to start: ${run.stderr.trim().split("\n")[0]}` };
    }
    // bwrap reports a child killed by signal N as exit status 128 + N. Python runs as the namespace's
    // pid 1, which nothing inside can SIGKILL and which ignores SIGXCPU: a SIGKILL is the kernel
    // enforcing the CPU-time limit (which busy threads reach before the wall clock).
    const killedBy = run.exitCode !== null && run.exitCode > 128 ? run.exitCode - 128 : undefined;
    if (killedBy === constants.signals.SIGKILL || killedBy === constants.signals.SIGXCPU) {
      return { code: "TIMEOUT", message: `the code exceeded its CPU-time limit (${cpuSecondsFor(limits)} s)` };
    }
    if (killedBy !== undefined && finalErrorLine(run.stderr) === "") {
      return { code: "RUNTIME_ERROR", message: `the code was killed by ${signalName(killedBy)}` };
    }
    if (run.signal !== null) return { code: "RUNTIME_ERROR", message: `the sandbox was killed by ${run.signal}` };
  }
  // A fork bomb may run out the clock before any process prints why its fork failed. The count is taken
  // while processes die and fork, so it can read a little under the limit it keeps hitting.
  if (run.timedOut && !run.outputLimited && (run.tasksAtTimeout ?? 0) >= Math.floor(0.9 * limits.maxProcesses)) {
    return { code: "PROCESS_LIMIT", message: `the code hit the limit of ${limits.maxProcesses} processes` };
  }
  return classifyRun(run, limits);
}
