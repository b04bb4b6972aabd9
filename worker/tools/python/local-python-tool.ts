// The default code tool: runs model-written Python in a bubblewrap sandbox on this machine, one call per
// slot, and turns every outcome (success, traceback, limit hit) into an observation.
import { availableParallelism } from "node:os";
import { toolFailure, toolSuccess } from "../result.js";
import type { Tool, ToolResult } from "../types.js";
import { classifyLocalRun } from "./classify.js";
import { resolvePythonLimits, type PythonLimits, type PythonLimitsInput } from "./limits.js";
import { failureWithoutOutput, formatExecutionObservation } from "./observation.js";
import { findSandboxPrograms, SandboxUnavailableError, type SandboxPrograms } from "./requirements.js";
import { runProcess } from "./run-process.js";
import { buildSandboxCommand } from "./sandbox-command.js";
import { SlotAbortedError, SlotPool } from "./slot-pool.js";

export interface LocalPythonToolOptions {
  limits?: PythonLimitsInput;
  /** Concurrent sandboxes; further calls wait for a free slot. Default: the number of CPUs. */
  slots?: number;
  /** Slot i runs as uid/gid uidBase + i when this process is root. */
  uidBase?: number;
  /** Interpreter inside the sandbox; must be under /usr. */
  pythonPath?: string;
}

export const DEFAULT_UID_BASE = 60_000;
export const DEFAULT_PYTHON_PATH = "/usr/bin/python3";

export class LocalPythonTool implements Tool {
  readonly name = "python";
  readonly limits: PythonLimits;
  private readonly programs: SandboxPrograms;
  private readonly pool: SlotPool;
  private readonly uidBase: number;
  private readonly pythonPath: string;
  private readonly closing = new AbortController();

  /** Throws SandboxUnavailableError (naming the Debian packages) when bwrap, prlimit or setpriv is missing. */
  constructor(options: LocalPythonToolOptions = {}) {
    this.limits = resolvePythonLimits(options.limits);
    this.programs = findSandboxPrograms();
    this.pool = new SlotPool(options.slots ?? availableParallelism());
    this.uidBase = options.uidBase ?? DEFAULT_UID_BASE;
    this.pythonPath = options.pythonPath ?? DEFAULT_PYTHON_PATH;
    if (!this.pythonPath.startsWith("/usr/")) {
      throw new SandboxUnavailableError(`pythonPath must be under /usr (the only host directory the sandbox sees): ${this.pythonPath}`);
    }
  }

  get slots(): number {
    return this.pool.size;
  }

  /** Root drops to a per-slot uid (RLIMIT_NPROC does not bind root); other users cannot switch and stay themselves. */
  private uidFor(slot: number): number | null {
    return process.getuid?.() === 0 ? this.uidBase + slot : null;
  }

  async call(input: string, options: { signal?: AbortSignal } = {}): Promise<ToolResult> {
    const started = performance.now();
    const signal = options.signal ? AbortSignal.any([options.signal, this.closing.signal]) : this.closing.signal;
    let slot: number;
    try {
      slot = await this.pool.acquire(signal);
    } catch (error) {
      if (!(error instanceof SlotAbortedError)) throw error;
      return failureWithoutOutput({ code: "TIMEOUT", message: error.message }, this.limits.observationChars, started);
    }
    try {
      const command = buildSandboxCommand({ programs: this.programs, limits: this.limits, uid: this.uidFor(slot), pythonPath: this.pythonPath });
      const run = await runProcess({
        ...command,
        code: input,
        timeoutMs: this.limits.timeoutS * 1000,
        outputBytes: this.limits.outputBytes,
        signal,
      });
      const error = classifyLocalRun(run, this.limits);
      const observation = formatExecutionObservation(run, this.limits.observationChars, error);
      return error ? toolFailure(error, observation, started) : toolSuccess(observation, started);
    } finally {
      this.pool.release(slot);
    }
  }

  /**
   * Runs one trivial call and throws SandboxUnavailableError if it fails, so a machine where bwrap cannot
   * create namespaces is refused at startup instead of failing every call of a training run.
   */
  async selfTest(): Promise<void> {
    const result = await this.call('print("sandbox ok")');
    if (!result.ok || result.observation.trim() !== "sandbox ok") {
      throw new SandboxUnavailableError(`the Python sandbox does not work on this machine: ${result.error?.message ?? result.observation}`);
    }
  }

  /** Kills running sandboxes and fails queued calls. */
  async close(): Promise<void> {
    this.closing.abort();
  }
}
