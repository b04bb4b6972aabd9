// The worker process: register, then claim -> run -> finish jobs until told to stop.
//
// - Claims only the kinds it has a runner for. Idle polling backs off (pollMs doubling up to
//   maxPollMs); a jobAvailable event wakes it at once, so polling is only the fallback.
// - Each job's lease is heartbeated in the background while it runs and while its results drain.
// - Results stream through one Outbox; finishing calls (completeJob, failJob, releaseJob) are retried
//   through outages, so a server restart in the middle of a job loses and duplicates nothing.
// - stop() (SIGTERM/SIGINT): the current job finishes its batch, flushes and is released for another
//   worker; if that cannot happen within shutdownTimeoutMs the worker gives up (the lease expires and
//   the server requeues the job) and reports an unclean stop.
// Nothing is shared with other workers except the server: many workers on many machines can serve
// one server, each with its own dataDir.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import {
  ClaimJobDocument,
  CompleteJobDocument,
  createClient,
  FailJobDocument,
  JobAvailableDocument,
  ReleaseJobDocument,
  SignOffWorkerDocument,
  type ClaimJobMutation,
  type IcrlClient,
  type JobKind,
} from "../../client-sdk/src/index.js";
import { addLlamaLogListener, type GpuChoice } from "../engine/llama-loader.js";
import { AdapterCache } from "./adapter-cache.js";
import { AllowedPaths, defaultAllowedRoots } from "./allowed-paths.js";
import {
  Backoff,
  sleep,
  classifyFailure,
  errorMessage,
  isRetryable,
  LeaseLostError,
  JobLease,
  Outbox,
  type OutboxOptions,
  retryTransient,
  Wakeup,
} from "../../client-sdk/src/index.js";
import { isRetryableJobFailure } from "./job-failure.js";
import { workerInstanceId } from "./instance-id.js";
import { EngineCache } from "./engine-cache.js";
import type { JobOutcome, JobRunners } from "./job-runner.js";
import { silentLogger, type Logger } from "./logger.js";
import { defaultWorkerName, describeMachine, registerWorker, type WorkerCapabilitiesReport } from "./registration.js";
import { defaultJobRunners, runnableKinds } from "./runners.js";

export interface WorkerOptions {
  serverUrl: string;
  /** A WORKER-role registration key (or an existing worker token). */
  token: string;
  name?: string;
  /** CPU threads per llama.cpp context (default: cores - 1). */
  threads?: number;
  /** Kinds to claim (default: every kind this worker has a runner for). */
  kinds?: JobKind[];
  /** First idle poll delay (default 2 s); doubles while idle up to maxPollMs (default 30 s). */
  pollMs?: number;
  maxPollMs?: number;
  /** This worker's private directory (default .icrl/worker/<name>). */
  dataDir?: string;
  /**
   * The only directories a job may read files from that its config names (model, corpus, search cache);
   * symlinks and `..` are resolved before the check. Default: dataDir, ./.icrl/models and ./.icrl/data.
   */
  allowPaths?: string[];
  gpu?: GpuChoice;
  /** Heartbeat interval (default: a third of the lease). */
  heartbeatMs?: number;
  /** A step-boundary cancel check slower than this stops boundaries waiting for theirs (JobLeaseOptions.slowCheckMs; default 1000). */
  slowCheckMs?: number;
  /** How long a graceful stop may take before the worker gives up on releasing its job (default 120 s). */
  shutdownTimeoutMs?: number;
  /** Stop after this many jobs (default: run until stopped). */
  maxJobs?: number;
  logger?: Logger;
  runners?: JobRunners;
  outbox?: Omit<OutboxOptions, "dir" | "logger">;
  /** Capabilities to register instead of probing this machine (tests, custom schedulers). */
  capabilities?: Partial<WorkerCapabilitiesReport>;
}

export interface WorkerSummary {
  workerId: string | null;
  jobs: number;
  /** False when a shutdown could not release or finish its job in time. */
  clean: boolean;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Spill directories of dead processes that used this data dir are garbage. */
function removeStaleOutboxes(root: string): void {
  if (!fs.existsSync(root)) return;
  for (const entry of fs.readdirSync(root)) {
    const pid = Number(entry.split("-")[0]);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !isAlive(pid)) fs.rmSync(path.join(root, entry), { recursive: true, force: true });
  }
}

export class Worker {
  readonly name: string;
  readonly dataDir: string;
  readonly allowedPaths: AllowedPaths;
  private readonly logger: Logger;
  private readonly runners: JobRunners;
  private readonly kinds: JobKind[];
  private readonly stopController = new AbortController();
  private readonly deadline = new AbortController();
  private readonly wakeup = new Wakeup();
  private deadlineTimer: NodeJS.Timeout | null = null;
  private workerId: string | null = null;
  private jobsRun = 0;
  private clean = true;
  private readyResolve!: (id: string) => void;
  /** Resolves with the worker id once registered. */
  readonly ready: Promise<string>;
  /** The job being run, if any. */
  currentJobId: string | null = null;

  constructor(private readonly options: WorkerOptions) {
    this.name = options.name ?? defaultWorkerName();
    this.dataDir = path.resolve(options.dataDir ?? path.join(".icrl", "worker", this.name.replace(/[^A-Za-z0-9_.-]/g, "_")));
    this.allowedPaths = new AllowedPaths(options.allowPaths ?? defaultAllowedRoots(this.dataDir));
    this.logger = options.logger ?? silentLogger;
    this.runners = options.runners ?? defaultJobRunners;
    const available = runnableKinds(this.runners);
    this.kinds = options.kinds ?? available;
    const missing = this.kinds.filter((k) => !available.includes(k));
    if (missing.length) throw new Error(`This worker cannot run ${missing.join(", ")} jobs yet (it can run: ${available.join(", ") || "nothing"}).`);
    if (this.kinds.length === 0) throw new Error("No job kinds to claim.");
    this.ready = new Promise((resolve) => (this.readyResolve = resolve));
  }

  get stopping(): boolean {
    return this.stopController.signal.aborted;
  }

  /** Ask for a graceful stop: finish the current batch, report, release the job, exit. */
  stop(reason = "stop requested"): void {
    if (this.stopping) return;
    this.logger.info({ reason, jobId: this.currentJobId }, "worker stopping");
    this.stopController.abort();
    this.wakeup.notify();
    const timeout = this.options.shutdownTimeoutMs ?? 120_000;
    this.deadlineTimer = setTimeout(() => {
      this.logger.error(
        { timeoutMs: timeout, jobId: this.currentJobId },
        "shutdown took too long; giving up on the current job (its lease will expire)",
      );
      this.clean = false;
      this.deadline.abort();
    }, timeout);
    this.deadlineTimer.unref();
  }

  /** Register and serve jobs until stop() (or maxJobs). */
  async run(): Promise<WorkerSummary> {
    fs.mkdirSync(this.dataDir, { recursive: true });
    const outboxRoot = path.join(this.dataDir, "outbox");
    removeStaleOutboxes(outboxRoot);
    const outboxDir = path.join(outboxRoot, `${process.pid}-${randomBytes(3).toString("hex")}`);

    const threads = this.options.threads ?? Math.max(1, os.availableParallelism() - 1);
    let identity;
    try {
      identity = await registerWorker(
        this.options.serverUrl,
        this.options.token,
        this.name,
        async () => ({
          ...(await describeMachine({ gpu: this.options.gpu, threads, kinds: this.kinds })),
          ...this.options.capabilities,
        }),
        {
          signal: this.stopController.signal,
          onRetry: (err, delayMs) => this.logger.warn({ err: errorMessage(err), delayMs }, "cannot reach the server to register; retrying"),
        },
        workerInstanceId(this.dataDir),
      );
    } catch (error) {
      if (this.stopping) return { workerId: null, jobs: 0, clean: true }; // stopped before it ever served
      throw error;
    }
    this.workerId = identity.workerId;
    this.logger.info(
      {
        workerId: identity.workerId,
        name: this.name,
        kinds: this.kinds,
        dataDir: this.dataDir,
        allowPaths: this.allowedPaths.roots,
        newRegistration: identity.registered,
      },
      "worker registered",
    );
    this.readyResolve(identity.workerId);

    const client = createClient({ url: this.options.serverUrl, token: identity.token });
    const outbox = new Outbox({ ...this.options.outbox, dir: outboxDir, logger: this.logger.child({ component: "outbox" }) });
    const engines = new EngineCache({ threads, gpu: this.options.gpu, adapterDir: path.join(this.dataDir, "adapter-copies") });
    const adapters = new AdapterCache(path.join(this.dataDir, "adapters"), client);
    const subscription = this.watchJobs(client);
    // llama.cpp's own warnings and errors (e.g. why a model or adapter did not load) join our log.
    const llamaLog = this.logger.child({ component: "llama.cpp" });
    const stopLlamaLog = addLlamaLogListener((level, message) => llamaLog.warn({ level }, message.trim()));
    try {
      await this.serve(client, outbox, engines, adapters);
    } finally {
      stopLlamaLog();
      this.stopController.abort();
      await subscription;
      await outbox
        .close({ signal: this.deadline.signal })
        .catch((err) => this.logger.warn({ err: errorMessage(err) }, "outbox not fully delivered at exit"));
      await engines.dispose();
      // Shown OFFLINE until it starts again; a worker that dies without this just goes quiet (lastSeenAt).
      await client.mutate(SignOffWorkerDocument, {}).catch((err) => this.logger.warn({ err: errorMessage(err) }, "could not sign off"));
      await client.close();
      fs.rmSync(outboxDir, { recursive: true, force: true });
      if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    }
    this.logger.info({ jobs: this.jobsRun, clean: this.clean }, "worker stopped");
    return { workerId: this.workerId, jobs: this.jobsRun, clean: this.clean };
  }

  private async serve(client: IcrlClient, outbox: Outbox, engines: EngineCache, adapters: AdapterCache): Promise<void> {
    const pollMs = this.options.pollMs ?? 2000;
    const idle = new Backoff({ initialMs: pollMs, maxMs: Math.max(pollMs, this.options.maxPollMs ?? 30_000), jitter: 0.1 });
    const errors = new Backoff({ initialMs: 500, maxMs: 15_000 });
    while (!this.stopping && (this.options.maxJobs === undefined || this.jobsRun < this.options.maxJobs)) {
      let claimed: ClaimJobMutation["claimJob"];
      try {
        // Never aborted: a claim cut off after the server leased the job would strand it until its lease expires.
        claimed = (await client.mutate(ClaimJobDocument, { kinds: this.kinds })).claimJob;
        errors.reset();
      } catch (error) {
        if (!isRetryable(classifyFailure(error))) throw error;
        const delayMs = errors.next();
        this.logger.warn({ err: errorMessage(error), delayMs }, "cannot claim jobs; retrying");
        await sleep(delayMs, this.stopController.signal);
        continue;
      }
      if (!claimed) {
        const delayMs = idle.next();
        this.logger.debug({ delayMs }, "no job to claim; waiting");
        await this.wakeup.wait(delayMs);
        continue;
      }
      idle.reset();
      this.jobsRun++;
      await this.runJob(claimed, client, outbox, engines, adapters);
    }
  }

  /**
   * Wake the claim loop when the server announces a job we can run. The feed only replays jobs that
   * are still queued, so starting from cursor 0 costs one event per waiting job and closes the gap
   * between our last empty claim and the moment the subscription is live.
   */
  private async watchJobs(client: IcrlClient): Promise<void> {
    const signal = this.stopController.signal;
    while (!signal.aborted) {
      try {
        for await (const event of client.subscribe(JobAvailableDocument, { after: "0" }, { signal })) {
          if (this.kinds.includes(event.jobAvailable.job.kind)) this.wakeup.notify();
        }
      } catch (error) {
        this.logger.debug({ err: errorMessage(error) }, "jobAvailable subscription failed; polling until it is back");
      }
      await sleep(5000, signal);
    }
  }

  private async runJob(
    claimed: NonNullable<ClaimJobMutation["claimJob"]>,
    client: IcrlClient,
    outbox: Outbox,
    engines: EngineCache,
    adapters: AdapterCache,
  ): Promise<void> {
    const job = claimed.job;
    const log = this.logger.child({ jobId: job.id, kind: job.kind });
    this.currentJobId = job.id;
    const lease = new JobLease(client, job.id, {
      intervalMs: this.options.heartbeatMs,
      leaseExpiresAt: job.leaseExpiresAt,
      logger: log,
      slowCheckMs: this.options.slowCheckMs,
    });
    lease.start();
    const signal = AbortSignal.any([lease.signal, this.deadline.signal]);
    log.info({ attempt: job.attempts + 1, benchmarkRunId: job.benchmarkRun?.id, runId: job.run?.id }, "job claimed");

    let outcome: JobOutcome | null = null;
    let failure: unknown = null;
    try {
      const runner = this.runners[job.kind];
      if (!runner) throw new Error(`no runner for ${job.kind} jobs on this worker`);
      outcome = await runner({
        client,
        job: { id: job.id, kind: job.kind, attempts: job.attempts },
        context: claimed.context,
        lease,
        outbox,
        logger: log,
        engines,
        adapters,
        dataDir: this.dataDir,
        allowedPaths: this.allowedPaths,
        stopRequested: () => this.stopping,
        signal,
      });
    } catch (error) {
      failure = error;
    }

    const retry = {
      signal: this.deadline.signal,
      onRetry: (err: unknown, delayMs: number) =>
        log.warn({ err: errorMessage(err), delayMs }, "cannot reach the server to finish the job; retrying"),
    };
    try {
      if (lease.lost || failure instanceof LeaseLostError) {
        log.warn({ err: failure ? errorMessage(failure) : undefined }, "job abandoned: this worker no longer holds its lease");
      } else if (failure) {
        const retryJob = isRetryableJobFailure(failure);
        log.error({ err: errorMessage(failure), retry: retryJob }, "job failed");
        await retryTransient(
          () => client.mutate(FailJobDocument, { jobId: job.id, error: errorMessage(failure).slice(0, 4000), retry: retryJob }),
          retry,
        );
      } else if (outcome?.status === "interrupted") {
        await retryTransient(() => client.mutate(ReleaseJobDocument, { jobId: job.id }), retry);
        log.info("job released for another worker");
      } else if (outcome) {
        const res = await retryTransient(() => client.mutate(CompleteJobDocument, { jobId: job.id, result: outcome.result ?? null }), retry);
        log.info({ status: res.completeJob.status }, "job finished");
      }
    } catch (error) {
      if (classifyFailure(error) === "lease-lost")
        log.warn({ err: errorMessage(error) }, "job was finished elsewhere before this worker could report it");
      else {
        this.clean = false;
        log.error({ err: errorMessage(error) }, "could not report how the job ended; its lease will expire and the server will requeue it");
      }
    } finally {
      await lease.stop();
      this.currentJobId = null;
    }
  }
}
