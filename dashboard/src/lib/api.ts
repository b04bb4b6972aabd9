// The signed-in SDK client, shared through context, and hooks for queries and live subscriptions.
import { createContext } from "preact";
import { useCallback, useContext, useEffect, useRef, useState } from "preact/hooks";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { IcrlApiError, type IcrlClient } from "./sdk.js";

export interface Session {
  client: IcrlClient;
  /** Called when the server rejects the key: back to the login screen. */
  signOut(reason?: string): void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession outside a signed-in page");
  return s;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isAuthError(err: unknown): boolean {
  return err instanceof IcrlApiError && err.code === "UNAUTHENTICATED";
}

export interface QueryState<R> {
  data: R | null;
  error: string | null;
  loading: boolean;
  reload(): void;
}

/**
 * Runs a typed query whenever `deps` change; stale answers (from before the last change) are
 * dropped. `reload` refetches without clearing what is on screen, for polling.
 */
export function useQuery<R, V>(document: TypedDocumentNode<R, V>, variables: V | null, deps: unknown[]): QueryState<R> {
  const { client, signOut } = useSession();
  const [state, setState] = useState<{ data: R | null; error: string | null; loading: boolean }>({
    data: null,
    error: null,
    loading: variables !== null,
  });
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const lastDeps = useRef<unknown[] | null>(null);
  useEffect(() => {
    if (variables === null) return;
    const depsChanged = !lastDeps.current || deps.length !== lastDeps.current.length || deps.some((d, i) => d !== lastDeps.current![i]);
    lastDeps.current = deps;
    const controller = new AbortController();
    setState((s) => ({ data: depsChanged ? null : s.data, error: null, loading: true }));
    client.query(document, variables as never, { signal: controller.signal }).then(
      (data) => !controller.signal.aborted && setState({ data, error: null, loading: false }),
      (err) => {
        if (controller.signal.aborted) return;
        if (isAuthError(err)) signOut("The server did not accept this API key.");
        setState((s) => ({ data: s.data, error: errorMessage(err), loading: false }));
      },
    );
    return () => controller.abort();
  }, [...deps, tick]);
  return { ...state, reload };
}

/**
 * maxDelayMs for the batched streams (rolloutsAdded, metricsBatch): nobody sees 100 ms, and a busy
 * run then re-renders a page about ten times a second rather than once per write.
 */
export const LIVE_DELAY_MS = 100;

/**
 * Feeds every event of a typed subscription to `onEvent` while the component is mounted and
 * `variables` is not null. The SDK resumes after disconnects from the last cursor by itself.
 */
export function useSubscription<R, V>(
  document: TypedDocumentNode<R, V>,
  variables: V | null,
  deps: unknown[],
  onEvent: (data: R) => void,
): string | null {
  const { client, signOut } = useSession();
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (variables === null) return;
    const controller = new AbortController();
    setError(null);
    (async () => {
      try {
        for await (const event of client.subscribe(document, variables as never, { signal: controller.signal })) {
          if (controller.signal.aborted) break;
          handler.current(event);
        }
      } catch (err) {
        if (controller.signal.aborted) return;
        if (isAuthError(err)) signOut("The server did not accept this API key.");
        setError(errorMessage(err));
      }
    })();
    return () => controller.abort();
  }, deps);
  return error;
}
