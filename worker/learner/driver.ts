// Drives the Python learner (`python3 -m icrl_learner`) over its line-delimited JSON protocol.
// The learner is a child process because PyTorch cannot run inside Node. A crash (exit), a hang (no answer
// within the request's timeout) or a protocol violation (a stdout line that is not a response) makes the
// learner unusable: every pending request is rejected with a LearnerError and later calls fail fast.
// An error the learner reports for one request (bad batch, unsupported model...) rejects only that
// request; the process keeps serving.
//
// The child runs in its own process group (detached), so a Ctrl-C in the terminal (SIGINT to the
// foreground group) reaches only the worker, which finishes its step and checkpoints before it shuts
// the learner down. Since the terminal no longer takes it down, the driver kills the learner's group
// itself: on a failure, on shutdown, and when this process exits. A worker killed outright (SIGKILL)
// closes the learner's stdin, and the learner exits on EOF.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { pino, type Logger } from "pino";
import { OomKillWatch } from "./oom-kill-watch.js";
import { DEFAULT_STALL_MS, watchForStall } from "./stall-watch.js";
import type {
  BenchParams,
  BenchResult,
  ExportResult,
  InitParams,
  InitResult,
  LearnerMethod,
  LearnerMethods,
  LogprobsParams,
  PretrainBaseParams,
  PretrainBaseResult,
  PretrainParams,
  PretrainResult,
  StepMetrics,
  TrainingSample,
} from "./protocol.js";

export * from "./protocol.js";

/** Directory holding the icrl_learner package (put on PYTHONPATH). */
export const LEARNER_DIR = path.dirname(fileURLToPath(import.meta.url));

/**
 * crashed: the process exited unexpectedly; timeout: a request got no answer in time (the process was
 * killed); stalled: the process was stopped (SIGSTOP) while a request waited, for stallMs (then killed); protocol: the process wrote something that is not a response; spawn_failed: the interpreter
 * could not be started; closed: the driver was shut down or had already failed. Any other code comes
 * from the learner itself (bad_request, unsupported_model, not_initialized, io_error, state_mismatch,
 * unknown_method, internal) and leaves the process usable.
 */
export type DriverErrorCode = "crashed" | "timeout" | "stalled" | "protocol" | "spawn_failed" | "closed";

export class LearnerError extends Error {
  constructor(
    readonly code: DriverErrorCode | string,
    message: string,
    readonly details: {
      method?: string;
      /** True when the learner answered with this error (the process is still usable). */
      remote?: boolean;
      exitCode?: number | null;
      signal?: string | null;
      /** Last stderr lines of the learner, for crashes. */
      stderrTail?: string[];
    } = {},
  ) {
    super(message);
    this.name = "LearnerError";
  }
}

export interface LearnerDriverOptions {
  /** Python interpreter with torch. Default: $ICRL_PYTHON, else /usr/bin/python3. */
  python?: string;
  /** Receives the learner's stderr lines (its JSON logs at their level, anything else as warn). */
  logger?: Logger;
  /** Default per-request timeout (ms). Default 10 minutes. */
  requestTimeoutMs?: number;
  /** Per-method overrides; defaults: init and bench 30 minutes. */
  timeoutsMs?: Partial<Record<LearnerMethod, number>>;
  /** Extra environment for the child. */
  env?: NodeJS.ProcessEnv;
  /** Enables the learner's failure-injection method `_debug` (tests only). */
  debug?: boolean;
  /** Working directory of the child (relative paths in requests resolve against it). Default: process.cwd(). */
  cwd?: string;
  /** How long the process may stay stopped (SIGSTOP) while a request waits before it fails as stalled. Default 20 s. */
  stallMs?: number;
}

interface Pending {
  method: string;
  resolve: (value: unknown) => void;
  reject: (error: LearnerError) => void;
  timer: NodeJS.Timeout;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;
/** The run config's learner memory settings, named in out-of-memory errors (the Python side says the same). */
const LEARNER_MEMORY_SETTINGS = "set learner.logprobChunk lower (e.g. 128), learner.gradientCheckpointing true or learner.dtype bfloat16";
const LONG_METHODS: Partial<Record<LearnerMethod, number>> = { init: 30 * 60_000, bench: 30 * 60_000, pretrain_base: 60 * 60_000 };
const STDERR_TAIL = 40;

export class LearnerDriver {
  readonly python: string;
  /** Resolves when the child has exited, whatever the reason. */
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly logger: Logger;
  private readonly pending = new Map<number, Pending>();
  private readonly stderrTail: string[] = [];
  private nextId = 1;
  private failure: LearnerError | null = null;
  private shuttingDown = false;
  private readonly oomKills: OomKillWatch | null;

  private constructor(private readonly options: LearnerDriverOptions) {
    this.python = options.python ?? process.env.ICRL_PYTHON ?? "/usr/bin/python3";
    this.logger = options.logger ?? pino({ level: "silent" });
    const pythonPath = [LEARNER_DIR, options.env?.PYTHONPATH ?? process.env.PYTHONPATH].filter(Boolean).join(path.delimiter);
    this.child = spawn(this.python, ["-m", "icrl_learner"], {
      cwd: options.cwd ?? process.cwd(),
      env: {
        ...process.env,
        ...options.env,
        PYTHONPATH: pythonPath,
        PYTHONUNBUFFERED: "1",
        ...(options.debug ? { ICRL_LEARNER_DEBUG: "1" } : {}),
      },
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    if (this.child.pid !== undefined) {
      LIVE.add(this);
      ensureExitHook();
    }
    const stallMs = options.stallMs ?? DEFAULT_STALL_MS;
    const pid = this.child.pid;
    this.oomKills = pid === undefined ? null : new OomKillWatch(pid);
    const stallWatch =
      pid === undefined
        ? null
        : watchForStall({
            pid,
            stallMs,
            busy: () => this.pending.size > 0,
            onStopped: (state) =>
              this.logger.warn(
                { source: "learner", pid, state, waiting: [...this.pending.values()].map((p) => p.method) },
                "learner process is stopped; a request is waiting on it",
              ),
            onStall: (ms) => {
              const methods = [...this.pending.values()].map((p) => p.method).join(", ");
              const message = `learner process (pid ${pid}) was stopped (SIGSTOP?) for ${Math.round(ms / 1000)} s while ${methods} waited on it; the process was killed`;
              this.logger.error({ source: "learner", pid, stoppedForMs: ms }, message);
              this.fail(new LearnerError("stalled", message, { method: methods }));
            },
          });
    this.exited = new Promise((resolve) => {
      this.child.once("close", (code, signal) => {
        stallWatch?.stop();
        LIVE.delete(this);
        this.onExit(code, signal);
        resolve({ code, signal });
      });
    });
    this.child.once("error", (error: NodeJS.ErrnoException) => {
      const code = error.code === "ENOENT" || error.code === "EACCES" ? "spawn_failed" : "crashed";
      this.fail(new LearnerError(code, `learner process (${this.python}) failed: ${error.message}`));
    });
    // A dead child closes the pipe; the exit handler reports that, so write errors need no handling here.
    this.child.stdin.on("error", () => undefined);
    // readline hands over a last unterminated line when the pipe ends, before the child's "close".
    readline.createInterface({ input: this.child.stdout, crlfDelay: Number.POSITIVE_INFINITY }).on("line", (line) => {
      if (line.trim()) this.onResponse(line);
    });
    readline.createInterface({ input: this.child.stderr, crlfDelay: Number.POSITIVE_INFINITY }).on("line", (line) => {
      if (line.trim()) this.forwardLog(line);
    });
  }

  /** Spawn the learner process. Nothing is loaded until init(). */
  static start(options: LearnerDriverOptions = {}): LearnerDriver {
    return new LearnerDriver(options);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Whether the process can still take requests. */
  get alive(): boolean {
    return this.failure === null;
  }

  request<M extends LearnerMethod>(method: M, params: LearnerMethods[M][0], timeoutMs?: number): Promise<LearnerMethods[M][1]> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const limit = timeoutMs ?? this.options.timeoutsMs?.[method] ?? LONG_METHODS[method] ?? this.options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new LearnerError("timeout", `learner did not answer ${method} within ${limit} ms; the process was killed`, { method }));
      }, limit);
      this.pending.set(id, { method, resolve: resolve as (value: unknown) => void, reject, timer });
      this.oomKills?.note();
      this.child.stdin.write(JSON.stringify({ id, method, params }) + "\n");
    });
  }

  init(params: InitParams): Promise<InitResult> {
    return this.request("init", params);
  }

  logprobs(params: LogprobsParams): Promise<number[][]> {
    return this.request("logprobs", params).then((r) => r.logprobs);
  }

  /**
   * One GRPO step. `lrScale` (0..1) multiplies the learning rate of this step's updates: the per-stage
   * warm-up (config grpo.stageWarmup) is computed by the worker, which knows the curriculum.
   */
  step(batch: TrainingSample[], options: { lrScale?: number } = {}): Promise<StepMetrics> {
    return this.request("step", options.lrScale === undefined ? { batch } : { batch, lr_scale: options.lrScale });
  }

  pretrain(params: PretrainParams): Promise<PretrainResult> {
    return this.request("pretrain", params);
  }

  /** Pre-trains every weight of a small model and writes it as a new GGUF (tests and the demo build their models so). */
  pretrainBase(params: PretrainBaseParams): Promise<PretrainBaseResult> {
    return this.request("pretrain_base", params);
  }

  /** Per-stage reset: reference makes the current policy the KL reference; optimizer restarts AdamW. */
  reset(options: { optimizer?: boolean; reference?: boolean }): Promise<{ optimizer: boolean; reference: boolean }> {
    return this.request("reset", options);
  }

  exportAdapter(filePath: string, options: { dtype?: "f32" | "f16"; permuteQk?: boolean } = {}): Promise<ExportResult> {
    return this.request("export_adapter", { path: filePath, dtype: options.dtype, permute_qk: options.permuteQk });
  }

  saveState(filePath: string): Promise<{ path: string; bytes: number; step: number }> {
    return this.request("save_state", { path: filePath });
  }

  loadState(filePath: string): Promise<{ path: string; step: number }> {
    return this.request("load_state", { path: filePath });
  }

  bench(params: BenchParams = {}): Promise<BenchResult> {
    return this.request("bench", params);
  }

  /** Ask the learner to exit; kills it if it has not exited within graceMs. */
  async shutdown(graceMs = 10_000): Promise<void> {
    if (this.failure) {
      this.killGroup();
      await this.exited;
      return;
    }
    this.shuttingDown = true;
    const ack = this.request("shutdown", {}, graceMs).catch(() => undefined);
    const timer = setTimeout(() => this.killGroup(), graceMs);
    await Promise.all([ack, this.exited]);
    clearTimeout(timer);
  }

  /** Kill the process now; pending requests are rejected with code "closed". */
  kill(): void {
    this.fail(new LearnerError("closed", "learner process was killed by its driver"));
  }

  /**
   * SIGKILL the learner's process group (it leads its own group: detached), so helpers it may have
   * started die with it; falls back to the process alone.
   */
  killGroup(): void {
    const pid = this.child.pid;
    if (pid === undefined || this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      try {
        this.child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
  }

  private onResponse(line: string): void {
    let message: { id?: unknown; ok?: unknown; result?: unknown; error?: { code?: unknown; message?: unknown } };
    try {
      message = JSON.parse(line);
    } catch {
      this.fail(new LearnerError("protocol", `learner wrote a line that is not JSON: ${line.slice(0, 200)}`));
      return;
    }
    const pending = typeof message?.id === "number" ? this.pending.get(message.id) : undefined;
    if (!pending) {
      const detail = message?.error ? `: ${String(message.error.code)} ${String(message.error.message)}` : "";
      this.fail(new LearnerError("protocol", `learner answered an unknown request id ${JSON.stringify(message?.id)}${detail}`));
      return;
    }
    this.pending.delete(message.id as number);
    clearTimeout(pending.timer);
    if (message.ok === true) {
      pending.resolve(message.result);
    } else {
      const code = typeof message.error?.code === "string" ? message.error.code : "internal";
      const text = typeof message.error?.message === "string" ? message.error.message : "learner reported an error";
      pending.reject(new LearnerError(code, `${pending.method}: ${text}`, { method: pending.method, remote: true }));
    }
  }

  private forwardLog(line: string): void {
    this.stderrTail.push(line);
    if (this.stderrTail.length > STDERR_TAIL) this.stderrTail.shift();
    let record: Record<string, unknown> | null = null;
    if (line.startsWith("{")) {
      try {
        record = JSON.parse(line);
      } catch {
        record = null;
      }
    }
    if (!record || typeof record.msg !== "string") {
      this.logger.warn({ source: "learner", pid: this.child.pid }, line);
      return;
    }
    const { level, msg, time: _time, ...fields } = record;
    const log = level === "debug" || level === "warn" || level === "error" ? level : "info";
    this.logger[log]({ source: "learner", pid: this.child.pid, ...fields }, msg as string);
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.failure) {
      this.rejectAll(this.failure);
      return;
    }
    const oomKill = signal === "SIGKILL" ? this.oomKills?.killSinceNote() : null;
    const waiting = [...this.pending.values()].map((p) => p.method).join(", ") || "no request";
    const error = this.shuttingDown
      ? new LearnerError("closed", "learner process has shut down", { exitCode: code, signal })
      : oomKill
        ? new LearnerError(
            "out_of_memory",
            `the learner was killed by the kernel's out-of-memory killer during ${waiting}: its memory cgroup (${oomKill.cgroup}) ` +
              `reached ${oomKill.limitBytes === null ? "the memory available to it" : `its limit of ${Math.round(oomKill.limitBytes / 2 ** 20)} MiB`}; ` +
              `lower grpo.groupSize, grpo.questionsPerStep or the rollout token limits, ${LEARNER_MEMORY_SETTINGS}, use a smaller model, or give the learner more memory`,
            { exitCode: code, signal },
          )
        : new LearnerError(
            "crashed",
            `learner process exited unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`})` +
              // Nobody here sent it: the usual sender is the kernel's out-of-memory killer.
              (signal === "SIGKILL"
                ? " (SIGKILL is what the kernel's out-of-memory killer sends: `dmesg` or the system journal says if it did)"
                : "") +
              (this.stderrTail.length ? `; last stderr: ${this.stderrTail.slice(-5).join(" | ")}` : ""),
            { exitCode: code, signal, stderrTail: [...this.stderrTail] },
          );
    this.failure = error;
    this.rejectAll(error);
  }

  private fail(error: LearnerError): void {
    if (!this.failure) this.failure = error;
    this.rejectAll(this.failure);
    if (this.child.exitCode === null && this.child.signalCode === null) this.killGroup();
  }

  private rejectAll(error: LearnerError): void {
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      clearTimeout(pending.timer);
      pending.reject(error);
    }
  }
}

/** Learners whose process has not exited yet: killed when this process exits. */
const LIVE = new Set<LearnerDriver>();
let exitHooked = false;

function ensureExitHook(): void {
  if (exitHooked) return;
  exitHooked = true;
  // A detached child outlives its parent unless killed; "exit" runs on process.exit() and on a normal
  // end (signal handlers that exit go through process.exit too). Only synchronous work is possible here.
  process.on("exit", () => {
    for (const learner of LIVE) learner.killGroup();
  });
}
