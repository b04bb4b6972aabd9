// Logging to a run from a user script (one that is not an `icrl worker`).
//
// Design: the server's auth model stays as it is. Metrics and rollouts are written only through the
// worker protocol, by the holder of the run's job. So a script becomes a (tiny) worker for its own
// run: `startLoggedRun` creates the run with a job requirement no real worker advertises
// (`requirements.backend = "script-<uuid>"`), registers a worker with that capability using a
// WORKER-role registration key, and claims the job, which only it can match. From then on the
// script holds the job like any worker: it heartbeats (unref'd, so it never keeps the process
// alive), and its reports are scoped to that job. `createRunLogger` attaches to a job the caller
// already holds (a custom worker).
//
// log() / logRollouts() only enqueue (synchronously) into the SDK's delivery outbox, which sends
// batches in the background, retries with backoff while the server is away, and relies on the
// server's idempotency keys ((run, key, step) for metrics, (run, step, group, sample) for
// rollouts) so a retried batch is stored exactly once. finish() flushes and completes the job;
// a script that ends without calling it is finished on `beforeExit`.
import { randomUUID } from "node:crypto";
import { createClient, type IcrlClient } from "./client.js";
import { IcrlApiError } from "./errors.js";
import {
  ClaimJobDocument,
  CompleteJobDocument,
  CreateExperimentDocument,
  CreateRunDocument,
  CancelRunDocument,
  ExperimentDocument,
  ExperimentsDocument,
  FailJobDocument,
  HeartbeatDocument,
  LogMetricsDocument,
  RegisterWorkerDocument,
  ReportRolloutsDocument,
  ReportRunProgressDocument,
  type MetricPointInput,
  type RolloutInput,
  type RunProgressInput,
} from "./generated/graphql.js";
import { validateRunConfig, type RunConfigInput } from "../../contracts/index.js";
import { Outbox, type OutboxLogger, type OutboxStream } from "./delivery/outbox.js";
import type { BackoffOptions } from "./delivery/backoff.js";
import { classifyFailure } from "./delivery/failures.js";

export interface RunLoggerOptions {
  /** A client whose token is the worker token holding `jobId`. */
  client: IcrlClient;
  jobId: string;
  runId: string;
  /** From claimJob, to size the first heartbeat interval. */
  leaseExpiresAt?: string | null;
  /** Report `step` as the run's progress whenever a logged step passes it (default true). */
  autoProgress?: boolean;
  /** How long a partial batch waits for more items (default 200 ms). */
  batchDelayMs?: number;
  /** Retry delays while the server is unreachable (default 250 ms doubling to 10 s). */
  retry?: BackoffOptions;
  /** How long the automatic finish on process exit may wait for the server (default 60 s). */
  exitTimeoutMs?: number;
  /** Where delivery problems are reported (retries, a failed automatic finish). Default: silent. */
  logger?: OutboxLogger & { error?(obj: object, msg?: string): void };
  /** Close `client` on finish (set when the logger created it). */
  ownsClient?: boolean;
  /** Reclaim the job if its lease ran out while the script was cut off (only a script's own job). */
  reclaim?: boolean;
}

export interface FinishOptions {
  /** Mark the run FAILED with this error instead of SUCCEEDED. */
  error?: string | Error;
  /** Stored as the job's result. */
  result?: unknown;
  /** Give up delivering after this long; what is left is reported in the rejection. Default: no limit. */
  timeoutMs?: number;
}

export interface LoggerStats {
  metrics: { enqueued: number; delivered: number };
  rollouts: { enqueued: number; delivered: number };
}

const KEY_MAX = 200;

function checkMetric(key: string, value: unknown, step: number): void {
  if (typeof key !== "string" || !key.trim() || key.length > KEY_MAX)
    throw new TypeError(`Metric key ${JSON.stringify(key)} must be 1 to ${KEY_MAX} characters.`);
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new RangeError(`Metric ${key} at step ${step} is ${String(value)}; only finite numbers can be stored.`);
  }
}

function checkStep(step: number, what: string): void {
  if (!Number.isInteger(step) || step < 0) throw new RangeError(`${what} must be a non-negative integer, got ${String(step)}.`);
}

export class RunLogger {
  readonly runId: string;
  readonly jobId: string;
  private client: IcrlClient;
  private readonly outbox: Outbox;
  private readonly metrics: OutboxStream<MetricPointInput>;
  private readonly rollouts: OutboxStream<RolloutInput>;
  private readonly progressStream: OutboxStream<RunProgressInput>;
  private readonly autoProgress: boolean;
  private highestStep = -1;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private heartbeatMs: number;
  private cancelRequested = false;
  private cancelListeners: (() => void)[] = [];
  private finishing: Promise<{ status: string }> | null = null;
  private readonly onBeforeExit: () => void;

  constructor(private readonly options: RunLoggerOptions) {
    this.runId = options.runId;
    this.jobId = options.jobId;
    this.client = options.client;
    this.autoProgress = options.autoProgress ?? true;
    this.outbox = new Outbox({ lingerMs: options.batchDelayMs ?? 200, retry: options.retry, logger: options.logger });
    const jobId = this.jobId;
    this.metrics = this.outbox.stream<MetricPointInput>("metrics", {
      maxBatchItems: 1000,
      send: (points) => this.withLease(() => this.client.mutate(LogMetricsDocument, { jobId, points })),
    });
    this.rollouts = this.outbox.stream<RolloutInput>("rollouts", {
      send: (rollouts) => this.withLease(() => this.client.mutate(ReportRolloutsDocument, { jobId, rollouts })),
    });
    // Progress is "latest wins": a batch collapses into one call.
    this.progressStream = this.outbox.stream<RunProgressInput>("progress", {
      send: (updates) => this.withLease(() => this.client.mutate(ReportRunProgressDocument, { jobId, progress: Object.assign({}, ...updates) })),
    });
    this.heartbeatMs = this.intervalFor(options.leaseExpiresAt ?? null);
    this.scheduleHeartbeat();
    this.onBeforeExit = () => {
      const code = typeof process.exitCode === "number" ? process.exitCode : 0;
      this.finish({ error: code ? `script exited with code ${code}` : undefined, timeoutMs: options.exitTimeoutMs ?? 60_000 }).catch((err) =>
        options.logger?.error?.({ runId: this.runId, err: (err as Error).message }, "could not finish the run on exit"),
      );
    };
    process.once("beforeExit", this.onBeforeExit);
  }

  /** True once someone cancelled the run (learned through the heartbeat); stop and call finish(). */
  get cancelled(): boolean {
    return this.cancelRequested;
  }

  onCancel(listener: () => void): void {
    if (this.cancelRequested) listener();
    else this.cancelListeners.push(listener);
  }

  /** Queue metric values for one step. Returns at once; delivery happens in the background. */
  log(metrics: Record<string, number>, step: number): void {
    this.assertOpen();
    checkStep(step, "step");
    const entries = Object.entries(metrics);
    for (const [key, value] of entries) checkMetric(key, value, step);
    const time = new Date().toISOString();
    for (const [key, value] of entries) this.metrics.enqueue({ key, step, value, time });
    this.advance(step);
  }

  /** Queue rollouts (the worker protocol's RolloutInput). Returns at once. */
  logRollouts(rollouts: RolloutInput[]): void {
    this.assertOpen();
    for (const r of rollouts) {
      checkStep(r.step, "rollout step");
      checkStep(r.groupIndex, "rollout groupIndex");
      checkStep(r.sampleIndex, "rollout sampleIndex");
      if (!Array.isArray(r.segments)) throw new TypeError("rollout segments must be an array of {kind, text}.");
      if (typeof r.reward !== "number" || !Number.isFinite(r.reward))
        throw new RangeError(`rollout reward must be a finite number, got ${String(r.reward)}.`);
    }
    for (const r of rollouts) this.rollouts.enqueue(r);
    for (const r of rollouts) this.advance(r.step);
  }

  /** Set the run's step, curriculum stage or shots as shown in the CLI and dashboard. */
  progress(update: RunProgressInput): void {
    this.assertOpen();
    this.progressStream.enqueue(update);
  }

  stats(): LoggerStats {
    const pick = (s: { stats(): { enqueued: number; delivered: number } }) => {
      const { enqueued, delivered } = s.stats();
      return { enqueued, delivered };
    };
    return { metrics: pick(this.metrics), rollouts: pick(this.rollouts) };
  }

  /** Resolves when everything logged so far is stored. */
  flush(): Promise<void> {
    return this.outbox.flush();
  }

  /**
   * Deliver everything, then complete the job (run SUCCEEDED, or CANCELLED if cancelled) or fail it
   * with `error`. Rejects if something could not be delivered; the run is then marked FAILED.
   */
  finish(options: FinishOptions = {}): Promise<{ status: string }> {
    return (this.finishing ??= this.doFinish(options));
  }

  private async doFinish(options: FinishOptions): Promise<{ status: string }> {
    process.off("beforeExit", this.onBeforeExit);
    const timeout = options.timeoutMs != null ? AbortSignal.timeout(options.timeoutMs) : undefined;
    let deliveryError: Error | null = null;
    try {
      await this.outbox.close({ signal: timeout });
    } catch (err) {
      deliveryError = err as Error;
    }
    this.stopHeartbeat();
    const failure = options.error ?? (deliveryError ? `could not deliver everything logged: ${deliveryError.message}` : undefined);
    try {
      const job = await this.untilDelivered(
        () =>
          failure !== undefined
            ? this.client
                .mutate(FailJobDocument, { jobId: this.jobId, error: failure instanceof Error ? failure.message : failure })
                .then((r) => r.failJob)
            : this.client.mutate(CompleteJobDocument, { jobId: this.jobId, result: options.result }).then((r) => r.completeJob),
        timeout,
      );
      if (deliveryError) throw deliveryError;
      return { status: job.status };
    } finally {
      if (this.options.ownsClient) await this.client.close();
    }
  }

  private assertOpen(): void {
    if (this.finishing) throw new Error(`Run ${this.runId} is finished; nothing more can be logged to it.`);
  }

  private advance(step: number): void {
    if (this.autoProgress && step > this.highestStep) {
      this.highestStep = step;
      this.progressStream.enqueue({ step });
    }
  }

  /** Retry a final call through outages (it is idempotent enough: completing twice is refused, not doubled). */
  private async untilDelivered<T>(call: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    let delay = this.options.retry?.initialMs ?? 250;
    for (;;) {
      try {
        return await call();
      } catch (err) {
        if (classifyFailure(err) !== "transient" || signal?.aborted) throw err;
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(this.options.retry?.maxMs ?? 10_000, delay * 2);
      }
    }
  }

  /** Run a report; if the lease ran out while we were away and this is our own job, claim it back once. */
  private async withLease<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (!this.options.reclaim || classifyFailure(err) !== "lease-lost" || !(await this.reclaim())) throw err;
      return call();
    }
  }

  private async reclaim(): Promise<boolean> {
    const claimed = (await this.client.mutate(ClaimJobDocument, { kinds: ["TRAIN"] })).claimJob;
    if (!claimed) return false;
    if (claimed.job.id !== this.jobId) {
      // Cannot happen with a script backend, but never keep a job that is not ours.
      await this.client
        .mutate(FailJobDocument, { jobId: claimed.job.id, error: "claimed by a script logger by mistake", retry: true })
        .catch(() => {});
      return false;
    }
    this.heartbeatMs = this.intervalFor(claimed.job.leaseExpiresAt ?? null);
    return true;
  }

  private intervalFor(expiresAt: string | null): number {
    if (!expiresAt) return 10_000;
    const remaining = new Date(expiresAt).getTime() - Date.now();
    return Number.isFinite(remaining) ? Math.max(1000, Math.min(20_000, Math.floor(remaining / 3))) : 10_000;
  }

  private scheduleHeartbeat(): void {
    // unref: a pending heartbeat must not keep a finished script alive (beforeExit finishes the run).
    this.heartbeatTimer = setTimeout(() => void this.beat(), this.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  private async beat(): Promise<void> {
    if (this.finishing) return;
    try {
      const res = await this.withLease(() => this.client.mutate(HeartbeatDocument, { jobId: this.jobId }));
      this.heartbeatMs = this.intervalFor(res.heartbeat.leaseExpiresAt);
      if (res.heartbeat.cancelled && !this.cancelRequested) {
        this.cancelRequested = true;
        for (const l of this.cancelListeners.splice(0)) l();
      }
    } catch (err) {
      // Unreachable: try again soon; the lease outlives short outages. Lost for good: reports fail too.
      this.heartbeatMs = 1000;
      this.options.logger?.warn({ runId: this.runId, err: (err as Error).message }, "heartbeat failed");
    }
    if (!this.finishing) this.scheduleHeartbeat();
  }
}

/** Attach to a job the caller's worker token already holds. */
export function createRunLogger(options: RunLoggerOptions): RunLogger {
  return new RunLogger(options);
}

export interface StartLoggedRunOptions extends Omit<RunLoggerOptions, "client" | "jobId" | "runId" | "leaseExpiresAt" | "ownsClient" | "reclaim"> {
  /** A member or admin client: creates the experiment and the run. */
  client: IcrlClient;
  /**
   * A WORKER-role API key used once to register the script as a worker (an admin creates one with
   * createApiKey(role: WORKER)). Default: the client's own key, which works for admin keys.
   */
  registrationKey?: string;
  /** Experiment id or name; created when no experiment has that name. */
  experiment: string;
  name: string;
  config: RunConfigInput;
  curriculumId?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function experimentId(client: IcrlClient, idOrName: string): Promise<string> {
  if (UUID.test(idOrName)) {
    const found = (await client.query(ExperimentDocument, { id: idOrName })).experiment;
    if (!found) throw new IcrlApiError([{ message: `Experiment ${idOrName} does not exist.`, extensions: { code: "NOT_FOUND" } }]);
    return found.id;
  }
  const byName = async () => {
    let after: string | null = null;
    for (;;) {
      const page: { nodes: { id: string; name: string }[]; pageInfo: { endCursor?: string | null; hasNextPage: boolean } } = (
        await client.query(ExperimentsDocument, { nameContains: idOrName, includeArchived: true, first: 100, after })
      ).experiments;
      const exact = page.nodes.find((e) => e.name === idOrName);
      if (exact) return exact.id;
      if (!page.pageInfo.hasNextPage) return null;
      after = page.pageInfo.endCursor ?? null;
    }
  };
  const existing = await byName();
  if (existing) return existing;
  try {
    return (await client.mutate(CreateExperimentDocument, { name: idOrName })).createExperiment.id;
  } catch (err) {
    const raced = err instanceof IcrlApiError && err.code === "CONFLICT" ? await byName() : null;
    if (raced) return raced;
    throw err;
  }
}

/**
 * Create a run and log to it from this script. The run's job is given a requirement only this
 * script's worker matches, so no training worker picks it up; see the comment at the top of the file.
 */
export async function startLoggedRun(options: StartLoggedRunOptions): Promise<RunLogger> {
  const { client } = options;
  const backend = `script-${randomUUID()}`;
  const input = options.config as Record<string, unknown>;
  const config = { ...input, requirements: { ...((input.requirements as object | undefined) ?? {}), backend } };
  const checked = validateRunConfig(config);
  if (!checked.ok) {
    throw new IcrlApiError([
      {
        message: `Invalid run config: ${checked.errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`,
        extensions: { code: "BAD_USER_INPUT", fieldErrors: checked.errors },
      },
    ]);
  }
  const expId = await experimentId(client, options.experiment);
  const run = (await client.mutate(CreateRunDocument, { experimentId: expId, name: options.name, config, curriculumId: options.curriculumId }))
    .createRun;
  const registrar = options.registrationKey ? createClient({ url: client.baseUrl, token: options.registrationKey }) : client;
  let worker: IcrlClient | null = null;
  try {
    const registration = (
      await registrar.mutate(RegisterWorkerDocument, {
        name: `script ${options.name}`.slice(0, 200),
        capabilities: { backend, kind: "script", runId: run.id },
      })
    ).registerWorker;
    worker = createClient({ url: client.baseUrl, token: registration.token });
    const claimed = (await worker.mutate(ClaimJobDocument, { kinds: ["TRAIN"] })).claimJob;
    if (!claimed || claimed.job.run?.id !== run.id) throw new Error(`Could not claim the job of run ${run.id} for this script.`);
    return createRunLogger({
      ...options,
      client: worker,
      jobId: claimed.job.id,
      runId: run.id,
      leaseExpiresAt: claimed.job.leaseExpiresAt,
      ownsClient: true,
      reclaim: true,
    });
  } catch (err) {
    // Leave no queued run behind that nothing will ever run.
    await client.mutate(CancelRunDocument, { id: run.id }).catch(() => {});
    await worker?.close();
    if (err instanceof IcrlApiError && err.code === "FORBIDDEN" && !options.registrationKey) {
      throw new IcrlApiError([
        {
          message: `${err.message} Pass registrationKey: a WORKER-role API key, so the script can register as its run's worker.`,
          extensions: { code: "FORBIDDEN" },
        },
      ]);
    }
    throw err;
  } finally {
    if (registrar !== client) await registrar.close();
  }
}
