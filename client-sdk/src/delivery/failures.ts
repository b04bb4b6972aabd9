// How a client that reports to the server (a worker, a logging script) reads a failed call. The
// worker protocol is idempotent, so anything that may be a passing outage is retried: "transient" (no
// connection, a proxy answering without GraphQL, a 502/503/504) for as long as it takes,
// "server-error" (the server answered with an internal error, e.g. its database is restarting) a
// bounded number of times, since the same request can also fail that way for good. A lost lease means
// another worker owns the job now and we must stop writing to it; everything else is a real error.
import { IcrlApiError, IcrlNetworkError } from "../errors.js";

export type FailureKind = "transient" | "server-error" | "lease-lost" | "too-large" | "fatal";

/** How many times a request the server keeps answering with an internal error is retried. */
export const MAX_SERVER_ERROR_RETRIES = 30;

export function classifyFailure(error: unknown): FailureKind {
  if (error instanceof IcrlNetworkError) return "transient";
  if (error instanceof IcrlApiError) {
    // Apollo always sets extensions.code; an error without one was made up by the client because the
    // server did not answer with GraphQL at all (a proxy, a half-closed connection).
    const spokeGraphql = error.errors.some((e) => typeof e.extensions?.code === "string");
    if (!spokeGraphql) return "transient";
    if ([502, 503, 504].includes(error.status ?? 0) || error.code === "DATABASE_UNAVAILABLE") return "transient";
    if ((error.status ?? 0) >= 500 || error.code === "INTERNAL_SERVER_ERROR") return "server-error";
    if (error.code === "FORBIDDEN" || error.code === "NOT_FOUND") return "lease-lost";
    if (error.code === "PAYLOAD_TOO_LARGE") return "too-large";
    return "fatal";
  }
  // fetch() failures that escaped the SDK (artifact downloads go through raw HTTP).
  if (error instanceof TypeError && /fetch failed|network|socket/i.test(error.message)) return "transient";
  const code = (error as { code?: string; cause?: { code?: string } })?.cause?.code ?? (error as { code?: string })?.code;
  if (code && ["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "UND_ERR_SOCKET", "UND_ERR_CONNECT_TIMEOUT"].includes(code)) return "transient";
  return "fatal";
}

export const isRetryable = (kind: FailureKind) => kind === "transient" || kind === "server-error";

/** The job this worker was running is no longer its own (lease expired and requeued, or cancelled and finished). */
export class LeaseLostError extends Error {
  constructor(jobId: string, options?: { cause?: unknown }) {
    super(`Lost the lease on job ${jobId}; another worker may hold it now.`, options);
    this.name = "LeaseLostError";
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
