// Subscribers for bench/fanout.ts: `connections` SDK clients (one WebSocket each) with
// `perConnection` subscriptions each (rolloutAdded, or the batched rolloutsAdded), all on one run,
// spread over one server or several replicas. Every rollout is checked (cursor strictly increasing,
// so none is seen twice) and timed on arrival against the wall clock, which all processes on this
// machine share.
import { setMaxListeners } from "node:events";
import { parse, print } from "graphql";
import { createClient as createWsClient } from "graphql-ws";
import { WebSocket } from "ws";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { createClient, RolloutAddedDocument, type IcrlClient } from "../../client-sdk/src/index.js";
import { runBenchChild } from "./child.js";
import { percentile, wallMs } from "./stats.js";

export interface SubscribeInit {
  /** Server URLs; connection i goes to urls[i % urls.length] (replicas share the subscribers). */
  urls: string[];
  token: string;
  runId: string;
  connections: number;
  perConnection: number;
  /** "full": the SDK's RolloutAddedDocument (what the dashboard's rollout viewer uses); "live":
   * only the fields of a live table row. */
  selection: "full" | "live";
  /** "single": rolloutAdded, one message per rollout; "batched": rolloutsAdded, one per batch. */
  form: "single" | "batched";
  maxBatch?: number;
  maxDelayMs?: number;
  /**
   * One more subscriber (batched form, its own connection to urls[0]) whose TCP socket is paused for
   * the whole measured window and resumed after it: a subscriber that stops reading.
   */
  stalled?: boolean;
}

/** Sent by the parent once reporting has stopped; `acks` are [firstCursor, lastCursor, ackWallMs]. */
export interface SubscribeEnd {
  from: number;
  to: number;
  acks: [number, number, number][];
  timeoutMs: number;
}

export interface SubscribeResult {
  subscribers: number;
  expected_per_subscriber: number;
  delivered: number;
  complete_subscribers: number;
  out_of_order_or_repeated: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  ack_p50_ms: number;
  ack_p99_ms: number;
  /** JSON bytes of the messages, per rollout they carried. */
  payload_bytes_per_rollout: number;
  rollouts_per_message: number;
  client_cpu_s: number;
  /** The stalled subscriber: rollouts of the window it got after resuming, exactly once and in order? */
  stalled?: { received: number; out_of_order_or_repeated: number; catch_up_s: number; complete: boolean; dropped: boolean };
}

type Item = { cursor: string | number; createdAt: string | Date };
type Event = { rolloutAdded: { cursor: string | number; rollout: { createdAt: string | Date } } };
type Batch = { rolloutsAdded: { cursor: string | number; rollouts: Item[] } };

const LIVE = parse(`
  subscription RolloutAddedLive($runId: ID!, $after: BigInt) {
    rolloutAdded(runId: $runId, after: $after) {
      cursor
      rollout { id step groupIndex sampleIndex reward finishReason toolCallsValid createdAt }
    }
  }`) as TypedDocumentNode<Event, { runId: string; after?: string }>;

const LIVE_BATCH = parse(`
  subscription RolloutsAddedLive($runId: ID!, $after: BigInt, $maxBatch: Int, $maxDelayMs: Int) {
    rolloutsAdded(runId: $runId, after: $after, maxBatch: $maxBatch, maxDelayMs: $maxDelayMs) {
      cursor
      rollouts { cursor id step groupIndex sampleIndex reward finishReason toolCallsValid createdAt }
    }
  }`) as TypedDocumentNode<Batch, { runId: string; after?: string; maxBatch?: number; maxDelayMs?: number }>;

/** The rollouts a message carries, each with its own cursor, and the message's size. */
function itemsOf(message: Event | Batch): Item[] {
  if ("rolloutsAdded" in message) return message.rolloutsAdded.rollouts;
  return [{ cursor: message.rolloutAdded.cursor, createdAt: message.rolloutAdded.rollout.createdAt }];
}

interface Sub {
  last: number;
  /** Arrival wall time by cursor - base, for events after the measured window opened. */
  arrivals: Float64Array | null;
  received: number;
  bad: number;
}

runBenchChild<SubscribeInit>(async (init, io) => {
  if (init.form === "batched" && init.selection === "full") throw new Error("the batched form is measured with the live selection only");
  const doc = (init.form === "batched" ? LIVE_BATCH : init.selection === "full" ? RolloutAddedDocument : LIVE) as unknown as TypedDocumentNode<
    Event | Batch,
    Record<string, unknown>
  >;
  const variables = init.form === "batched" ? { runId: init.runId, maxBatch: init.maxBatch, maxDelayMs: init.maxDelayMs } : { runId: init.runId };
  const clients: IcrlClient[] = Array.from({ length: init.connections }, (_, i) =>
    createClient({ url: init.urls[i % init.urls.length], token: init.token }),
  );
  const subs: Sub[] = [];
  const latencies: number[] = [];
  const stalled = init.stalled ? openStalled(init) : null;
  const abort = new AbortController();
  setMaxListeners(init.connections * init.perConnection + 10, abort.signal); // one listener per subscription
  let window: { from: number; size: number } | null = null;
  // Messages wholly inside the measured window: their count and bytes per rollout.
  let messages = 0;
  let messageBytes = 0;
  let messageItems = 0;
  let onProgress: (() => void) | null = null;

  const consume = async (client: IcrlClient, sub: Sub) => {
    for await (const e of client.subscribe(doc, variables, { signal: abort.signal })) {
      const now = wallMs();
      const items = itemsOf(e);
      let inWindow = 0;
      for (const item of items) {
        const cursor = Number(item.cursor);
        if (cursor <= sub.last) sub.bad++;
        sub.last = cursor;
        if (window && cursor > window.from) {
          inWindow++;
          sub.received++;
          latencies.push(now - new Date(item.createdAt).getTime());
          const i = cursor - window.from - 1;
          if (i < window.size) sub.arrivals![i] = now;
        }
      }
      if (inWindow > 0 && inWindow === items.length) {
        messages++;
        messageBytes += Buffer.byteLength(JSON.stringify(e));
        messageItems += items.length;
      }
      onProgress?.();
    }
  };
  const running: Promise<void>[] = [];
  for (const client of clients) {
    for (let k = 0; k < init.perConnection; k++) {
      const sub: Sub = { last: 0, arrivals: null, received: 0, bad: 0 };
      subs.push(sub);
      running.push(consume(client, sub));
    }
  }
  const until = (done: () => boolean, timeoutMs: number) =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        onProgress = null;
        resolve(false);
      }, timeoutMs);
      onProgress = () => {
        if (!done()) return;
        clearTimeout(timer);
        onProgress = null;
        resolve(true);
      };
      onProgress();
    });

  // Live = every subscription has seen an event; the parent keeps reporting single rollouts until then.
  io.send("subscribed");
  await until(() => subs.every((s) => s.last > 0), 120_000);
  io.send("live");

  if (stalled) await stalled.live;
  const open = await io.next<{ from: number; size: number }>("open");
  for (const s of subs) s.arrivals = new Float64Array(open.size).fill(Number.NaN);
  window = open;
  stalled?.pause();
  const cpu0 = process.cpuUsage();

  const end = await io.next<SubscribeEnd>("end");
  await until(() => subs.every((s) => s.last >= end.to), end.timeoutMs);
  const cpu = process.cpuUsage(cpu0);
  abort.abort();
  await Promise.all(clients.map((c) => c.close()));
  const stalledResult = stalled ? await stalled.resumeUntil(open.from, end.to, end.timeoutMs) : undefined;

  // Arrival after the reporter had its answer: a lower bound on commit-to-receipt latency.
  const ackLatencies: number[] = [];
  for (const [first, last, ack] of end.acks) {
    for (let c = first; c <= last; c++) {
      for (const s of subs) {
        const t = s.arrivals![c - end.from - 1];
        if (!Number.isNaN(t)) ackLatencies.push(t - ack);
      }
    }
  }
  const expected = end.to - end.from;
  io.send("result", {
    subscribers: subs.length,
    expected_per_subscriber: expected,
    delivered: subs.reduce((n, s) => n + s.received, 0),
    complete_subscribers: subs.filter((s) => s.received === expected && s.bad === 0).length,
    out_of_order_or_repeated: subs.reduce((n, s) => n + s.bad, 0),
    p50_ms: percentile(latencies, 50),
    p99_ms: percentile(latencies, 99),
    max_ms: percentile(latencies, 100),
    ack_p50_ms: percentile(ackLatencies, 50),
    ack_p99_ms: percentile(ackLatencies, 99),
    payload_bytes_per_rollout: messageItems ? messageBytes / messageItems : 0,
    rollouts_per_message: messages ? messageItems / messages : 0,
    client_cpu_s: (cpu.user + cpu.system) / 1e6,
    stalled: stalledResult,
  } satisfies SubscribeResult);
  await Promise.allSettled(running);
});

/** A plain graphql-ws client (its WebSocket at hand, to pause its TCP socket) on the batched form. */
function openStalled(init: SubscribeInit) {
  const sockets: WebSocket[] = [];
  class Tracked extends WebSocket {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args);
      sockets.push(this);
    }
  }
  const client = createWsClient({
    url: `${init.urls[0].replace(/^http/, "ws")}/graphql`,
    webSocketImpl: Tracked,
    connectionParams: { authorization: `Bearer ${init.token}` },
    retryAttempts: 0,
  });
  const cursors: number[] = [];
  let onItems: (() => void) | null = null;
  let failure: unknown = null;
  let markLive!: () => void;
  const live = new Promise<void>((resolve) => (markLive = resolve));
  client.subscribe<Batch>(
    { query: print(LIVE_BATCH), variables: { runId: init.runId, maxBatch: init.maxBatch, maxDelayMs: init.maxDelayMs } },
    {
      next: (m) => {
        for (const item of m.data?.rolloutsAdded.rollouts ?? []) cursors.push(Number(item.cursor));
        markLive();
        onItems?.();
      },
      error: (e) => {
        failure = e;
        onItems?.();
      },
      complete: () => undefined,
    },
  );
  const tcp = () => (sockets[0] as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  return {
    /** Resolves once it has received a batch (it is live). */
    live,
    pause: () => tcp().pause(),
    async resumeUntil(from: number, to: number, timeoutMs: number) {
      const resumed = wallMs();
      tcp().resume();
      const last = () => cursors[cursors.length - 1] ?? 0;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        onItems = () => {
          if (last() >= to || failure) {
            clearTimeout(timer);
            resolve();
          }
        };
        onItems();
      });
      // A subscriber that reads nothing answers no keep-alive ping either: the server drops its
      // connection (graphql-ws: no pong within 12 s). It then resumes the way the SDK does, from
      // the last cursor it got, on a new connection.
      const dropped = failure !== null && last() < to;
      await client.dispose();
      if (dropped) {
        const sdk = createClient({ url: init.urls[0], token: init.token });
        const resume = new AbortController();
        const stopAt = setTimeout(() => resume.abort(), timeoutMs);
        const variables = { runId: init.runId, after: String(last()), maxBatch: init.maxBatch, maxDelayMs: init.maxDelayMs };
        try {
          for await (const m of sdk.subscribe(LIVE_BATCH, variables, { signal: resume.signal })) {
            for (const item of m.rolloutsAdded.rollouts) cursors.push(Number(item.cursor));
            if (last() >= to) break;
          }
        } finally {
          clearTimeout(stopAt);
          await sdk.close();
        }
      }
      const catchUpS = (wallMs() - resumed) / 1000;
      const window = cursors.filter((c) => c > from && c <= to);
      let bad = 0;
      for (let i = 1; i < cursors.length; i++) if (cursors[i] <= cursors[i - 1]) bad++;
      return {
        received: window.length,
        out_of_order_or_repeated: bad,
        catch_up_s: catchUpS,
        complete: window.length === to - from && bad === 0,
        dropped,
      };
    },
  };
}
