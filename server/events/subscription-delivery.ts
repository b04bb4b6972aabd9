// Cheap fan-out of subscription events to many subscribers.
//
// 1. Shared execution. graphql-js executes the subscription document once per event per subscriber.
//    When resolvers hand every subscriber the SAME event object (see sharedEvent), subscribers whose
//    operation is the same (document, operation name, variables) and whose permissions are the same
//    (role, worker) get the same result, so it is executed once and reused.
// 2. Write coalescing. Every event is one WebSocket message, i.e. one write system call, and
//    graphql-ws waits for each write before the next event of that subscription. Corking the TCP
//    socket while a burst is sent, and acknowledging writes at once while little output is queued,
//    sends a burst of events (of one or many subscriptions) in one write.
//
// bench/fanout.ts measures the effect (server CPU per delivered event about 4x lower).
import { createRequire } from "node:module";
import type net from "node:net";
import type { ASTNode, DocumentNode, ExecutionArgs, ExecutionResult } from "graphql";
import type { WebSocket } from "ws";
import type { GraphQLContext } from "../graphql/context.js";

// graphql ships a CommonJS and an ES module build, and graphql-js refuses a schema made by the other
// copy. graphql-ws and @graphql-tools (which builds our schema) load the CommonJS one through
// `require`; so do we, even where a bundler-based runner (vitest) would pick the ES build.
const { createSourceEventStream, execute, print, visit, Kind } = createRequire(import.meta.url)("graphql") as typeof import("graphql");

type Result = ExecutionResult | Promise<ExecutionResult>;

const eventsByRow = new WeakMap<object, Map<string, object>>();

/**
 * The event object for `row` under subscription field `field`, the same object for every
 * subscriber that sees this row, so their results can be shared. Lives as long as the row does.
 * `field` must name everything the event depends on besides the row (a batch's first row, a
 * filter): subscribers whose subscription arguments differ share the results of one event object.
 */
export function sharedEvent<E extends object>(row: object, field: string, make: () => E): E {
  let byField = eventsByRow.get(row);
  if (!byField) eventsByRow.set(row, (byField = new Map()));
  let event = byField.get(field) as E | undefined;
  if (!event) byField.set(field, (event = make()));
  return event;
}

const resultsByEvent = new WeakMap<object, Map<string, Result>>();

const shapingVariables = new WeakMap<DocumentNode, string[]>();

/**
 * The variables that can change a result given the event: those used anywhere but in the arguments
 * of the subscription field itself. Those (runId, after, maxBatch, ...) choose the event stream, and
 * the field's value is read off the event, so subscribers that differ only there (each resumes from
 * its own `after`) can share results.
 */
function variablesShapingResult(document: DocumentNode): string[] {
  let names = shapingVariables.get(document);
  if (names) return names;
  const used = new Set<string>();
  const collect = (node: ASTNode) =>
    visit(node, {
      Variable(v) {
        used.add(v.name.value);
      },
    });
  for (const def of document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) collect(def.selectionSet);
    if (def.kind !== Kind.OPERATION_DEFINITION) continue;
    for (const d of def.directives ?? []) collect(d);
    for (const sel of def.selectionSet.selections) {
      if (sel.kind !== Kind.FIELD) {
        collect(sel);
        continue;
      }
      for (const d of sel.directives ?? []) collect(d);
      if (sel.selectionSet) collect(sel.selectionSet);
    }
  }
  names = [...used].sort();
  shapingVariables.set(document, names);
  return names;
}

/** What a result may depend on besides the event: permissions are by role (and worker, for workers). */
function operationKey(args: ExecutionArgs): string {
  const principal = (args.contextValue as GraphQLContext | undefined)?.principal;
  const values = args.variableValues ?? {};
  return [
    principal?.role ?? "anonymous",
    principal?.workerId ?? "",
    args.operationName ?? "",
    JSON.stringify(variablesShapingResult(args.document).map((name) => values[name])),
    print(args.document),
  ].join("\n");
}

/** Drop-in for graphql's `subscribe`, as graphql-ws's `subscribe` option. */
export async function subscribeShared(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in Object(source))) return source as ExecutionResult;
  const iterator = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  const key = operationKey(args);
  const run = (event: unknown): Result => {
    if (typeof event !== "object" || event === null) return execute({ ...args, rootValue: event });
    let byKey = resultsByEvent.get(event);
    if (!byKey) resultsByEvent.set(event, (byKey = new Map()));
    let result = byKey.get(key);
    if (!result) byKey.set(key, (result = execute({ ...args, rootValue: event })));
    return result;
  };
  const map = async (step: IteratorResult<unknown>): Promise<IteratorResult<ExecutionResult>> =>
    step.done ? { done: true, value: undefined } : { done: false, value: await run(step.value) };
  // Like graphql's mapAsyncIterator: return() goes straight to the source, even while a next() waits.
  // An async generator waiting for its next row takes return() only once it yields, and graphql-ws
  // awaits return() before it reports a closed connection (onClose, which aborts the streams): so
  // abort them here first, or an idle subscription on a closed socket lives until its next row.
  const cancel = (args.contextValue as GraphQLContext | undefined)?.cancel;
  const mapped: AsyncIterableIterator<ExecutionResult> = {
    next: () => iterator.next().then(map),
    return: async () => {
      cancel?.();
      return iterator.return ? map(await iterator.return()) : { done: true, value: undefined };
    },
    throw: async (error?: unknown) => {
      if (iterator.throw) return map(await iterator.throw(error));
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return mapped;
}

/** Below this much unsent output, a send counts as done at once (see coalesceWrites). */
const EARLY_ACK_BYTES = 256 * 1024;

/**
 * Cork the connection's TCP socket on its first message of a burst and uncork when the burst has
 * been handed over, so the burst leaves in one write. graphql-ws waits for each message's write
 * callback before it sends that subscription's next event; while little output is queued the
 * callback is given at once, so one subscription's consecutive events can share a write too. A
 * subscriber that does not read makes the queue grow past EARLY_ACK_BYTES, and from then on its
 * subscriptions wait for real writes again: backpressure is kept.
 */
export function coalesceWrites(socket: WebSocket): void {
  const raw = (socket as unknown as { _socket?: net.Socket })._socket;
  if (!raw || typeof raw.cork !== "function") return;
  const send = socket.send.bind(socket) as (data: unknown, options: object, cb?: (err?: Error) => void) => void;
  let corked = false;
  type Callback = (err?: Error) => void;
  socket.send = ((data: unknown, optionsOrCb?: object | Callback, cb?: Callback) => {
    const options = typeof optionsOrCb === "function" ? {} : (optionsOrCb ?? {});
    const callback = typeof optionsOrCb === "function" ? (optionsOrCb as Callback) : cb;
    if (!corked) {
      corked = true;
      raw.cork();
      // Runs once the current cascade of promise callbacks has drained: every subscriber woken by
      // the same rows has sent by then.
      process.nextTick(() => {
        corked = false;
        raw.uncork();
      });
    }
    if (callback && raw.writableLength < EARLY_ACK_BYTES) {
      send(data, options);
      queueMicrotask(() => callback());
    } else send(data, options, callback);
  }) as WebSocket["send"];
}
