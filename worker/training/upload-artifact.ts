// Streams a file to POST /artifacts for a job this worker holds, with its sha256 so the server
// verifies what it stored.
//
// Retries: what may succeed next time is sent again (the server stores nothing from a failed upload,
// and the same bytes are the same content-addressed file): a lost connection or a 502/503/504 for as
// long as the signal allows, like every other call of the worker; other 5xx answers up to
// MAX_UPLOAD_SERVER_ERRORS times with bounded backoff. A 4xx is the request's fault and a full disk
// (507 STORAGE_FULL) the operator's: neither is retried, and the error says which it was.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Readable } from "node:stream";
import { Backoff, classifyFailure, errorMessage, sleep, type BackoffOptions, type IcrlClient } from "../../client-sdk/src/index.js";

/** 5xx answers (other than 502-504 and a full disk) an upload is retried through. */
export const MAX_UPLOAD_SERVER_ERRORS = 8;

export class ArtifactUploadError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = "ArtifactUploadError";
  }
}

export interface UploadArtifactOptions {
  jobId: string;
  kind: "ADAPTER" | "CHECKPOINT" | "REPORT";
  name: string;
  step?: number;
  file: string;
  /** Stored as the artifact's `metadata` (a small JSON object). */
  metadata?: Record<string, unknown>;
  signal?: AbortSignal;
  /** Delays between tries (default 500 ms doubling to 10 s). */
  retry?: BackoffOptions;
  onRetry?: (error: unknown, delayMs: number) => void;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

function failure(status: number, body: { error?: { code: string; message: string } }, name: string): ArtifactUploadError {
  const detail = body.error?.message ?? "no body";
  if (body.error?.code === "STORAGE_FULL")
    return new ArtifactUploadError(`artifact storage is full on the server: ${name} was not stored. ${detail}`, status, body.error.code);
  return new ArtifactUploadError(`artifact upload of ${name} failed (HTTP ${status}): ${detail}`, status, body.error?.code);
}

/** "outage": retry while the signal allows; "server-error": a bounded number of times; "final": never. */
function retryKind(error: unknown): "outage" | "server-error" | "final" {
  if (error instanceof ArtifactUploadError) {
    if ([502, 503, 504].includes(error.status)) return "outage";
    if (error.status >= 500 && error.code !== "STORAGE_FULL") return "server-error";
    return "final";
  }
  return classifyFailure(error) === "transient" ? "outage" : "final";
}

async function uploadOnce(client: IcrlClient, options: UploadArtifactOptions, query: URLSearchParams, size: number): Promise<string> {
  const res = await client.http(`/artifacts?${query}`, {
    method: "POST",
    headers: { "content-type": "application/octet-stream", "content-length": String(size) },
    body: Readable.toWeb(createReadStream(options.file)) as never,
    duplex: "half",
    signal: options.signal,
  } as RequestInit);
  const body = (await res.json().catch(() => ({}))) as { id?: string; error?: { code: string; message: string } };
  if (!res.ok || !body.id) throw failure(res.status, body, options.name);
  return body.id;
}

export async function uploadArtifact(client: IcrlClient, options: UploadArtifactOptions): Promise<{ id: string; sha256: string; bytes: number }> {
  const sha256 = await sha256File(options.file);
  const { size } = await stat(options.file);
  const query = new URLSearchParams({ kind: options.kind, name: options.name, jobId: options.jobId, sha256 });
  if (options.step != null) query.set("step", String(options.step));
  if (options.metadata) query.set("metadata", JSON.stringify(options.metadata));
  const backoff = new Backoff({ initialMs: 500, maxMs: 10_000, ...options.retry });
  let serverErrors = 0;
  for (;;) {
    try {
      return { id: await uploadOnce(client, options, query, size), sha256, bytes: size };
    } catch (error) {
      const kind = retryKind(error);
      if (kind === "final" || options.signal?.aborted) throw error;
      if (kind === "server-error" && ++serverErrors >= MAX_UPLOAD_SERVER_ERRORS)
        throw new Error(`${errorMessage(error)} (gave up after ${serverErrors} tries)`, { cause: error });
      const delay = backoff.next();
      options.onRetry?.(error, delay);
      await sleep(delay, options.signal);
      if (options.signal?.aborted) throw error;
    }
  }
}
