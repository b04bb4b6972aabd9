// Keeps a claimed job's lease alive with background heartbeats and turns the server's answers into
// two flags the job runner checks at its step/batch boundaries:
// - cancelRequested: the user cancelled; finish the current batch and complete the job (the server
//   records it as CANCELLED);
// - lost: the lease is gone (expired while we were cut off, or the job was finished elsewhere);
//   `signal` aborts, and the runner must stop without reporting anything more.
// A heartbeat that fails for a transient reason is retried sooner; the lease only runs out if the
// server stays unreachable for longer than the lease itself.
import type { IcrlClient } from "../client.js";
import { HeartbeatDocument } from "../generated/graphql.js";
import { sleep } from "./backoff.js";
import { classifyFailure, errorMessage, LeaseLostError } from "./failures.js";
import type { OutboxLogger } from "./outbox.js";

export interface JobLeaseOptions {
  /** Fixed heartbeat interval; default: a third of the remaining lease, between 1 s and 20 s. */
  intervalMs?: number;
  /** When the server said the lease ends (from claimJob), to size the first interval. */
  leaseExpiresAt?: string | Date | null;
  logger?: OutboxLogger;
  /**
   * A step-boundary check (checkNow) that takes longer than this marks the server slow: later
   * boundaries stop waiting for theirs (it goes on in the background and its answer counts from the
   * next boundary) until one answers within it again. Default 1000 ms.
   */
  slowCheckMs?: number;
}

const MIN_INTERVAL_MS = 1000;
const MAX_INTERVAL_MS = 20_000;

export class JobLease {
  private readonly controller = new AbortController();
  private readonly stopper = new AbortController();
  private cancelled = false;
  private lostError: LeaseLostError | null = null;
  private loop: Promise<void> | null = null;
  private nextIntervalMs: number;
  private cancelListeners: (() => void)[] = [];
  /** Set while the server is unreachable (the last heartbeat failed for an outage). */
  private unreachable = false;
  /** Set while the server answers boundary checks slowly (slowCheckMs). */
  private slow = false;
  private probe: Promise<boolean> | null = null;

  constructor(
    private readonly client: IcrlClient,
    readonly jobId: string,
    private readonly options: JobLeaseOptions = {},
  ) {
    this.nextIntervalMs = this.intervalFor(options.leaseExpiresAt ?? null);
  }

  /** Aborts when the lease is lost. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get cancelRequested(): boolean {
    return this.cancelled;
  }

  get lost(): boolean {
    return this.lostError !== null;
  }

  /** Throws LeaseLostError if the lease is gone (call before reporting anything). */
  assertHeld(): void {
    if (this.lostError) throw this.lostError;
  }

  onCancel(listener: () => void): void {
    if (this.cancelled) listener();
    else this.cancelListeners.push(listener);
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Called by anyone who learns the lease is gone (e.g. a report rejected with FORBIDDEN). */
  markLost(cause?: unknown): void {
    if (this.lostError) return;
    this.lostError = new LeaseLostError(this.jobId, { cause });
    this.options.logger?.warn({ jobId: this.jobId, err: cause ? errorMessage(cause) : undefined }, "job lease lost; abandoning the job");
    this.controller.abort(this.lostError);
  }

  /** Stop heartbeating (after the job was completed, failed or released). */
  async stop(): Promise<void> {
    this.stopper.abort();
    await this.loop;
  }

  /**
   * Ask the server now, at a boundary, whether the job was cancelled: the background heartbeat alone
   * hears of a cancel up to one interval (as much as 20 s) late, so a run would go on for steps after
   * the user cancelled it. Bounded by `timeoutMs` so that an outage delays a boundary, never stalls it.
   * While the server is known to be unreachable, or answers slowly, a boundary does not wait at all:
   * a cancel cannot be heard from an unreachable server anyway, and waiting at every step would slow
   * training through a whole outage (a slow server would cost a round trip per step). One check goes
   * out in the background instead; its answer counts from the next boundary, and a prompt one makes
   * boundaries wait again.
   */
  async checkNow(timeoutMs = 5000): Promise<boolean> {
    if (this.cancelled || this.lostError || this.stopper.signal.aborted) return this.cancelled;
    if (this.probe) return this.cancelled;
    const started = Date.now();
    const check = this.beat(timeoutMs).then((ok) => {
      this.slow = Date.now() - started > (this.options.slowCheckMs ?? 1000);
      return ok;
    });
    if (this.unreachable || this.slow) this.probe = check.finally(() => (this.probe = null));
    else await check;
    return this.cancelled;
  }

  /** Send one heartbeat now; returns false when the lease is lost. */
  async beat(timeoutMs?: number): Promise<boolean> {
    try {
      const signal = timeoutMs === undefined ? this.stopper.signal : AbortSignal.any([this.stopper.signal, AbortSignal.timeout(timeoutMs)]);
      const res = await this.client.mutate(HeartbeatDocument, { jobId: this.jobId }, { signal });
      this.nextIntervalMs = this.intervalFor(res.heartbeat.leaseExpiresAt);
      this.unreachable = false;
      if (res.heartbeat.cancelled && !this.cancelled) {
        this.cancelled = true;
        this.options.logger?.info?.({ jobId: this.jobId }, "job cancellation requested; stopping at the next boundary");
        for (const l of this.cancelListeners.splice(0)) l();
      }
      return true;
    } catch (error) {
      if (this.stopper.signal.aborted) return true;
      const kind = classifyFailure(error);
      if (kind === "lease-lost" || kind === "fatal") {
        this.markLost(error);
        return false;
      }
      // An outage: try again soon, well before the lease can run out.
      this.unreachable = true;
      this.nextIntervalMs = MIN_INTERVAL_MS;
      this.options.logger?.warn({ jobId: this.jobId, err: errorMessage(error) }, "heartbeat failed; retrying");
      return true;
    }
  }

  private intervalFor(expiresAt: string | Date | null): number {
    if (this.options.intervalMs !== undefined) return this.options.intervalMs;
    if (!expiresAt) return 10_000;
    const remaining = new Date(expiresAt).getTime() - Date.now();
    if (!Number.isFinite(remaining)) return 10_000;
    return Math.max(MIN_INTERVAL_MS, Math.min(MAX_INTERVAL_MS, Math.floor(remaining / 3)));
  }

  private async run(): Promise<void> {
    while (!this.stopper.signal.aborted && !this.lostError) {
      await sleep(this.nextIntervalMs, this.stopper.signal);
      if (this.stopper.signal.aborted) break;
      await this.beat();
    }
  }
}
