// The typed client: HTTP for queries and mutations, graphql-ws for subscriptions. Subscriptions
// resume by themselves: the client remembers the last event cursor and, after a disconnect or a
// server restart, subscribes again with `after: <cursor>`, dropping anything it has already seen,
// so every event reaches the caller exactly once.
import { print, type DocumentNode } from "graphql";
import { createClient as createWsClient, type Client as WsClient } from "graphql-ws";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { IcrlApiError, IcrlNetworkError } from "./errors.js";
import { sleep } from "./delivery/backoff.js";
import { LiveCursorDocument } from "./generated/graphql.js";
import { liveStartOf } from "./live-start.js";

export interface ClientOptions {
  /** Server base URL (http://host:4000) or its /graphql endpoint. */
  url: string;
  token: string;
  /** Reconnect backoff for subscriptions, in ms (doubles up to maxRetryDelayMs). */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /**
   * How long a subscription keeps trying to reconnect after losing the server before it throws an
   * IcrlNetworkError (default 300000: five minutes, long enough for a server restart).
   */
  reconnectTimeoutMs?: number;
  fetch?: typeof fetch;
}

type Vars<V> = V extends Record<string, never> ? Record<string, never> | undefined : V;

export interface IcrlClient {
  readonly baseUrl: string;
  query<R, V>(document: TypedDocumentNode<R, V>, variables?: Vars<V>, options?: { signal?: AbortSignal }): Promise<R>;
  mutate<R, V>(document: TypedDocumentNode<R, V>, variables?: Vars<V>, options?: { signal?: AbortSignal }): Promise<R>;
  /**
   * Live events as an async iterator. The subscription's `after` variable is managed for you: without
   * one, the client first asks the server where the stream is now (Query.liveCursor) and starts there,
   * so even a connection lost before the first event resumes with no gap. Pass `after` yourself to
   * start from a known cursor. Batched subscriptions (rolloutsAdded, metricsBatch) yield batches and
   * resume from the last batch's cursor; itemsOf unwraps them into single items.
   */
  subscribe<R, V>(document: TypedDocumentNode<R, V>, variables?: Vars<V>, options?: { signal?: AbortSignal }): AsyncGenerator<R>;
  /** Raw HTTP helper for the artifact endpoints (same bearer token). */
  http(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

function endpoints(url: string) {
  const base = url.replace(/\/+$/, "").replace(/\/graphql$/, "");
  return { base, http: `${base}/graphql`, ws: `${base.replace(/^http/, "ws")}/graphql` };
}

/** The subscription field's `cursor`, wherever the single root field put it. */
function cursorOf(data: unknown): string | number | null {
  if (!data || typeof data !== "object") return null;
  const root = Object.values(data as Record<string, unknown>)[0] as { cursor?: string | number } | undefined;
  return root?.cursor ?? null;
}

/**
 * The WebSocket class for graphql-ws. Node (20 has no global WebSocket) gets the `ws` package,
 * imported only there so browser bundles leave it out; browsers use their own. Resolved once at
 * load, so subscribing stays synchronous.
 */
const inNode = !!(globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node;
const WebSocketImpl: unknown = inNode ? (await import("ws")).default : globalThis.WebSocket;

function isFatal(err: unknown): boolean {
  if (Array.isArray(err)) return true; // GraphQL errors from the server (bad id, forbidden...)
  const code = (err as { code?: number })?.code;
  return code === 4400 || code === 4401 || code === 4403 || code === 4409 || code === 4429;
}

/** A socket error or close event in a few words (ECONNREFUSED, "1001 going away"). */
function describeFailure(err: unknown): string {
  const e = err as { code?: string | number; reason?: string; message?: string; error?: { code?: string; message?: string } };
  const code = e?.error?.code ?? e?.code;
  const text = e?.error?.message ?? e?.reason ?? e?.message ?? "";
  return [code, text].filter((x) => x !== undefined && x !== "").join(" ") || "connection closed";
}

function isStaleSocket(err: unknown): boolean {
  const code = (err as { cause?: { code?: string } })?.cause?.code;
  return code === "ECONNRESET" || code === "UND_ERR_SOCKET" || code === "EPIPE";
}

export function createClient(options: ClientOptions): IcrlClient {
  const urls = endpoints(options.url);
  const doFetch = options.fetch ?? fetch;
  const auth = `Bearer ${options.token}`;
  // One socket for all of this client's subscriptions. When it is lost, every subscription on it
  // fails at once; the first to retry replaces it and the others join the replacement, so none of
  // them closes a socket another one has just resubscribed on.
  let ws: WsClient | null = null;
  const connected = new WeakSet<WsClient>();
  const wsClient = () => {
    if (!WebSocketImpl) throw new IcrlNetworkError("This environment has no WebSocket; subscriptions are unavailable.");
    if (ws) return ws;
    const c = createWsClient({
      url: urls.ws,
      webSocketImpl: WebSocketImpl,
      connectionParams: { authorization: auth },
      lazy: true,
      retryAttempts: 0, // we resubscribe ourselves, with the latest cursor
      keepAlive: 10_000,
    });
    c.on("connected", () => connected.add(c));
    ws = c;
    return c;
  };
  const reconnectTimeoutMs = options.reconnectTimeoutMs ?? 300_000;

  async function request<R>(document: DocumentNode, variables: unknown, signal?: AbortSignal, idempotent = false): Promise<R> {
    let res: Response;
    const send = () =>
      doFetch(urls.http, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: auth },
        body: JSON.stringify({ query: print(document), variables: variables ?? {} }),
        signal,
      });
    try {
      res = await send().catch((err) => {
        // A kept-alive socket the server closed just as we reused it: the request never reached
        // the server. Queries are safe to send again on a fresh socket (fetch does not retry POSTs).
        if (idempotent && !signal?.aborted && isStaleSocket(err)) return send();
        throw err;
      });
    } catch (err) {
      throw new IcrlNetworkError(`Cannot reach ${urls.http}: ${(err as Error).message}`, { cause: err });
    }
    let body: { data?: R; errors?: { message: string; extensions?: Record<string, unknown> }[] };
    try {
      body = await res.json();
    } catch {
      throw new IcrlApiError([{ message: `Server answered HTTP ${res.status} without a GraphQL body.` }], res.status);
    }
    if (body.errors?.length) throw new IcrlApiError(body.errors, res.status);
    if (!res.ok || body.data === undefined) throw new IcrlApiError([{ message: `Server answered HTTP ${res.status}.` }], res.status);
    return body.data;
  }

  async function* subscribe<R>(
    document: DocumentNode,
    variables: Record<string, unknown> | undefined,
    opts: { signal?: AbortSignal } = {},
  ): AsyncGenerator<R> {
    const query = print(document);
    let after: string | number | null = (variables?.after as string | number | undefined) ?? null;
    let delay = options.retryDelayMs ?? 200;
    const maxDelay = options.maxRetryDelayMs ?? 5000;
    /** When the connection was last known good before the current outage (null: no outage). */
    let lostAt: number | null = null;
    let start = after == null ? liveStartOf(document, variables) : null;
    while (!opts.signal?.aborted) {
      if (start) {
        // Where the stream is now, asked before the first subscribe: the cursor this subscription
        // resumes from if it drops before its first event. An outage here is retried like a lost socket.
        try {
          const head = await request<{ liveCursor: string }>(LiveCursorDocument, { stream: start.stream, id: start.id }, opts.signal, true);
          after = start.intCursor ? Number(head.liveCursor) : head.liveCursor;
          start = null;
          lostAt = null;
          delay = options.retryDelayMs ?? 200;
        } catch (err) {
          if (opts.signal?.aborted) return;
          const transient = err instanceof IcrlNetworkError || (err instanceof IcrlApiError && (err.status ?? 0) >= 502);
          // A server older than liveCursor: subscribe as before, from "now".
          if (err instanceof IcrlApiError && err.code === "GRAPHQL_VALIDATION_FAILED") start = null;
          else if (!transient) throw err;
          else {
            lostAt ??= Date.now();
            if (Date.now() - lostAt >= reconnectTimeoutMs)
              throw new IcrlNetworkError(
                `Could not reach ${urls.http} within ${reconnectTimeoutMs / 1000} s to start the subscription: ${(err as Error).message}. Is the server running? (reconnectTimeoutMs sets how long to try.)`,
                { cause: err },
              );
            await sleep(delay, opts.signal);
            delay = Math.min(maxDelay, delay * 2);
            continue;
          }
        }
      }
      const queue: R[] = [];
      let done = false;
      let failure: unknown = null;
      let wake: (() => void) | null = null;
      const notify = () => {
        const w = wake;
        wake = null;
        w?.();
      };
      const socket = wsClient();
      const unsubscribe = socket.subscribe<R>(
        { query, variables: { ...(variables ?? {}), ...(after != null ? { after } : {}) } },
        {
          next: (msg) => {
            if (msg.errors?.length) failure = msg.errors;
            else if (msg.data) queue.push(msg.data);
            notify();
          },
          error: (err) => {
            failure = err ?? new Error("subscription error");
            done = true;
            notify();
          },
          complete: () => {
            done = true;
            notify();
          },
        },
      );
      const onAbort = () => {
        done = true;
        notify();
      };
      opts.signal?.addEventListener("abort", onAbort);
      try {
        for (;;) {
          while (queue.length) {
            const data = queue.shift()!;
            const c = cursorOf(data);
            // After a resubscribe the server replays from `after`; anything at or before it was seen.
            if (c != null && after != null && BigInt(c) <= BigInt(after)) continue;
            if (c != null) after = c;
            delay = options.retryDelayMs ?? 200;
            yield data;
          }
          if (failure && Array.isArray(failure)) throw new IcrlApiError(failure as never);
          if (done) break;
          await new Promise<void>((r) => {
            wake = r;
            if (queue.length || done) r();
          });
        }
      } finally {
        opts.signal?.removeEventListener("abort", onAbort);
        unsubscribe();
      }
      if (opts.signal?.aborted) return;
      if (failure && isFatal(failure)) {
        const reason = (failure as { reason?: string }).reason;
        throw new IcrlApiError([
          { message: `Subscription rejected by the server${reason ? `: ${reason}` : ""}.`, extensions: { code: "UNAUTHENTICATED" } },
        ]);
      }
      // Connection lost, or the server ended the stream (its live feeds never end; it does so only
      // when shutting down): wait, then resubscribe from the last cursor, for a bounded time.
      if (connected.has(socket) || lostAt === null) {
        lostAt = Date.now();
        if (connected.has(socket)) delay = options.retryDelayMs ?? 200;
      }
      const left = reconnectTimeoutMs - (Date.now() - lostAt);
      if (left <= 0) {
        const why = failure ? `: ${describeFailure(failure)}` : "";
        throw new IcrlNetworkError(
          `Lost the connection to ${urls.ws} and could not reconnect within ${reconnectTimeoutMs / 1000} s${why}. Is the server running? (reconnectTimeoutMs sets how long to try.)`,
          { cause: failure },
        );
      }
      await new Promise<void>((r) => {
        const timer = setTimeout(r, Math.min(delay, left));
        opts.signal?.addEventListener(
          "abort",
          () => {
            clearTimeout(timer);
            r();
          },
          { once: true },
        );
      });
      delay = Math.min(maxDelay, delay * 2);
      if (ws === socket) {
        ws = null;
        await socket.dispose();
      }
    }
  }

  return {
    baseUrl: urls.base,
    query: (doc, variables, o) => request(doc, variables, o?.signal, true),
    mutate: (doc, variables, o) => request(doc, variables, o?.signal),
    subscribe: (doc, variables, o) => subscribe(doc, variables as Record<string, unknown> | undefined, o),
    http: (path, init = {}) =>
      doFetch(`${urls.base}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: auth } }),
    close: async () => {
      await ws?.dispose();
      ws = null;
    },
  };
}
