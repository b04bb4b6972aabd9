// Retries a server call through outages. Only outage-like failures are retried (see errors.ts); the
// calls we wrap are idempotent on the server, so a retry after a lost response is harmless.
import { Backoff, sleep, type BackoffOptions } from "./backoff.js";
import { classifyFailure, MAX_SERVER_ERROR_RETRIES } from "./failures.js";

export interface RetryOptions extends BackoffOptions {
  /** Stop retrying (rethrowing the last error) once this aborts. */
  signal?: AbortSignal;
  /** Give up after this many ms of failures (default: never). */
  deadlineMs?: number;
  onRetry?: (error: unknown, delayMs: number, attempt: number) => void;
}

export async function retryTransient<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const backoff = new Backoff(options);
  const started = Date.now();
  let serverErrors = 0;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      const kind = classifyFailure(error);
      if (kind === "server-error" && ++serverErrors > MAX_SERVER_ERROR_RETRIES) throw error;
      if (kind !== "transient" && kind !== "server-error") throw error;
      if (options.signal?.aborted) throw error;
      const delay = backoff.next();
      if (options.deadlineMs !== undefined && Date.now() + delay - started > options.deadlineMs) throw error;
      options.onRetry?.(error, delay, backoff.failures);
      await sleep(delay, options.signal);
      if (options.signal?.aborted) throw error;
    }
  }
}
