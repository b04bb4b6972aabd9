// JSON over HTTP for the remote tool clients. Every failure comes back as a ToolError (never thrown):
// a down server is UNAVAILABLE, a slow one TIMEOUT, and a response body is read under a byte cap so a
// misbehaving server cannot make the worker buffer without bound.
import type { ToolError } from "./result.js";

export type JsonResponse = { ok: true; body: unknown } | { ok: false; error: ToolError };

export interface PostJsonOptions {
  timeoutMs: number;
  maxResponseBytes: number;
  signal?: AbortSignal;
}

/** `base` itself when it already names the endpoint (Search-R1 configs give ".../retrieve"), else base + path. */
export function endpointUrl(base: string, endpoint: string): string {
  const url = new URL(base);
  if (!url.pathname.endsWith(`/${endpoint}`)) url.pathname = `${url.pathname.replace(/\/$/, "")}/${endpoint}`;
  return url.toString();
}

class ResponseTooLarge extends Error {}

async function readCapped(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new ResponseTooLarge(`response larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}

export async function postJson(url: string, payload: unknown, options: PostJsonOptions): Promise<JsonResponse> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(payload),
      signal,
    });
    const text = await readCapped(response, options.maxResponseBytes);
    if (!response.ok) {
      return { ok: false, error: { code: "UNAVAILABLE", message: `${url} answered HTTP ${response.status}: ${text.slice(0, 200)}` } };
    }
    try {
      return { ok: true, body: JSON.parse(text) };
    } catch {
      return { ok: false, error: { code: "UNAVAILABLE", message: `${url} did not answer JSON: ${text.slice(0, 200)}` } };
    }
  } catch (error) {
    if (error instanceof ResponseTooLarge) {
      return { ok: false, error: { code: "OUTPUT_LIMIT", message: `${url}: ${error.message}` } };
    }
    if (timeout.aborted) {
      return { ok: false, error: { code: "TIMEOUT", message: `${url} did not answer within ${options.timeoutMs} ms` } };
    }
    if (options.signal?.aborted) return { ok: false, error: { code: "TIMEOUT", message: "the call was aborted by the caller" } };
    return { ok: false, error: { code: "UNAVAILABLE", message: `cannot reach ${url}: ${describeFetchError(error)}` } };
  }
}
