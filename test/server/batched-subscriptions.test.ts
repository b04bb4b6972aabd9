// Batched subscriptions (rolloutsAdded, metricsBatch): batches bounded by maxBatch, exactly once and
// in order across a dropped connection, bad bounds refused, and a subscriber that stops reading holds
// no queue on the server yet gets everything once it reads again.
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { print } from "graphql";
import { createClient as createWsClient } from "graphql-ws";
import WebSocket from "ws";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  IcrlApiError,
  LiveCursorDocument,
  LogMetricsDocument,
  MetricsBatchDocument,
  ReportRolloutsDocument,
  RolloutsAddedDocument,
  RolloutsDocument,
  type RolloutsAddedSubscription,
  createClient,
  itemsOf,
  type IcrlClient,
} from "../../client-sdk/src/index.js";
import { liveStartOf } from "../../client-sdk/src/live-start.js";
import { ADMIN_KEY, startTestServer, type TestServer } from "../support/server.js";
import { claimedTrainJob } from "../support/claimed-job.js";
import { makeRollout } from "../support/fixtures.js";
import { startFaultProxy } from "../support/fault-proxy.js";

let t: TestServer;
let worker: IcrlClient;
let runId: string;
let jobId: string;
let step = 0;

/** Wait for a condition, failing with `what` after a deadline. */
async function until(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Report `n` rollouts (one step each batch of `per`), returning their "step/sample" keys in order. */
async function writeRollouts(n: number, per = 10, textBytes = 3000): Promise<string[]> {
  const keys: string[] = [];
  for (let done = 0; done < n; done += per) {
    const s = step++;
    const count = Math.min(per, n - done);
    await worker.mutate(ReportRolloutsDocument, { jobId, rollouts: Array.from({ length: count }, (_, i) => makeRollout(s, 0, i, textBytes)) });
    for (let i = 0; i < count; i++) keys.push(`${s}/${i}`);
  }
  return keys;
}

async function tail(): Promise<string> {
  return (await t.admin.query(LiveCursorDocument, { stream: "ROLLOUTS", id: runId })).liveCursor;
}

type Batch = RolloutsAddedSubscription["rolloutsAdded"];

/** Collect batches until `n` rollouts arrived (or fail after a deadline). */
function collect(batches: AsyncGenerator<RolloutsAddedSubscription>, n: number, controller: AbortController, timeoutMs = 30_000) {
  const got: Batch[] = [];
  const count = () => got.reduce((k, b) => k + b.rollouts.length, 0);
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const done = (async () => {
    for await (const b of batches) {
      got.push(b.rolloutsAdded);
      if (count() >= n) break;
    }
    clearTimeout(timer);
    if (count() < n) throw new Error(`got ${count()} of ${n} rollouts within ${timeoutMs} ms`);
    return got;
  })();
  return { got, count, done };
}

const keyOf = (r: { step: number; sampleIndex: number }) => `${r.step}/${r.sampleIndex}`;

beforeAll(async () => {
  t = await startTestServer();
  const tmp = await mkdtemp(path.join(os.tmpdir(), "icrl-batch-"));
  const claimed = await claimedTrainJob(t, tmp, "batched");
  runId = claimed.runId;
  jobId = claimed.jobId;
  worker = t.client(claimed.workerToken);
});

// Each test starts with no stream open on the run, so it can tell when its own opens and closes.
afterEach(async () => {
  const feeds = t.server.services.feeds;
  await until(() => feeds.subscribers(`rollouts:${runId}`) === 0 && feeds.subscribers(`metrics:${runId}`) === 0, "the test's streams to close");
});

afterAll(async () => {
  await t?.close();
});

describe("rolloutsAdded", () => {
  it("resumes across a dropped connection from the last batch cursor: every rollout once, in order, batches within maxBatch", async () => {
    const proxy = await startFaultProxy(t.server.url, () => null);
    const client = createClient({ url: proxy.url, token: ADMIN_KEY, retryDelayMs: 50 });
    const controller = new AbortController();
    const topic = `rollouts:${runId}` as const;
    // No `after`: the SDK starts at liveCursor, so the drop below cannot open a gap even before the first batch.
    const run = collect(
      client.subscribe(RolloutsAddedDocument, { runId, maxBatch: 7, maxDelayMs: 20 }, { signal: controller.signal }),
      100,
      controller,
    );
    await until(() => t.server.services.feeds.subscribers(topic) === 1, "the subscription to open");
    const expected = await writeRollouts(40);
    await until(() => run.count() >= 20, "the first rollouts");
    proxy.dropSockets();
    // Written while the subscriber is away (replayed from Postgres) and after it is back (live).
    expected.push(...(await writeRollouts(60)));
    const batches = await run.done;
    await client.close();
    await proxy.close();

    const rollouts = batches.flatMap((b) => b.rollouts);
    expect(rollouts.map(keyOf)).toEqual(expected);
    expect(batches.every((b) => b.rollouts.length >= 1 && b.rollouts.length <= 7)).toBe(true);
    // Unfiltered, a batch's cursor is its last rollout's; cursors only go up.
    expect(batches.every((b) => b.cursor === b.rollouts.at(-1)!.cursor)).toBe(true);
    const cursors = rollouts.map((r) => BigInt(r.cursor));
    expect(cursors.every((c, i) => i === 0 || c > cursors[i - 1])).toBe(true);
    expect(proxy.upgrades).toBeGreaterThanOrEqual(2);
  });

  it("opened without `after` and cut before its first batch, misses nothing written meanwhile (liveCursor)", async () => {
    const proxy = await startFaultProxy(t.server.url, () => null);
    const client = createClient({ url: proxy.url, token: ADMIN_KEY, retryDelayMs: 50 });
    const controller = new AbortController();
    const topic = `rollouts:${runId}` as const;
    const run = collect(client.subscribe(RolloutsAddedDocument, { runId, maxBatch: 5 }, { signal: controller.signal }), 12, controller);
    await until(() => t.server.services.feeds.subscribers(topic) === 1, "the subscription to open");
    proxy.holdSockets(true);
    proxy.dropSockets();
    await until(() => t.server.services.feeds.subscribers(topic) === 0, "the server to see the drop");
    // Written while the client cannot reconnect: only a resume from the opening cursor finds them.
    const expected = await writeRollouts(12, 4);
    proxy.holdSockets(false);
    const batches = await run.done;
    await client.close();
    await proxy.close();
    expect(batches.flatMap((b) => b.rollouts.map(keyOf))).toEqual(expected);
    expect(batches.every((b) => b.rollouts.length <= 5)).toBe(true);
    expect(proxy.upgrades).toBeGreaterThanOrEqual(2);
  });

  it("coalesces what is already there into batches of maxBatch, and itemsOf unwraps them", async () => {
    const from = await tail();
    const expected = await writeRollouts(45, 15);
    const controller = new AbortController();
    const batches: number[] = [];
    const items: string[] = [];
    const timer = setTimeout(() => controller.abort(), 20_000);
    const source = t.admin.subscribe(RolloutsAddedDocument, { runId, after: from, maxBatch: 20, maxDelayMs: 0 }, { signal: controller.signal });
    const counted = (async function* () {
      for await (const b of source) {
        batches.push(b.rolloutsAdded.rollouts.length);
        yield b;
      }
    })();
    for await (const r of itemsOf(counted, (b) => b.rolloutsAdded.rollouts)) {
      items.push(keyOf(r));
      if (items.length >= expected.length) break;
    }
    clearTimeout(timer);
    expect(items).toEqual(expected);
    // All 45 were in Postgres before subscribing: replayed as full batches, then the remainder.
    expect(batches).toEqual([20, 20, 5]);
  });

  it("subscribers that differ only in their arguments (filter, after, maxBatch) each get their own stream", async () => {
    const from = await tail();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 20_000);
    const take = async (variables: Record<string, unknown>, n: number) => {
      const got: { key: string; tool: boolean }[] = [];
      for await (const b of t.admin.subscribe(RolloutsAddedDocument, { runId, ...variables } as never, { signal: controller.signal })) {
        got.push(...b.rolloutsAdded.rollouts.map((r) => ({ key: keyOf(r), tool: r.toolCallsValid > 0 })));
        if (got.length >= n) break;
      }
      return got;
    };
    // makeRollout: sample indexes 1, 2, 4, 5, ... call a tool; 0, 3, 6, 9 do not.
    const all = take({ after: from }, 30);
    const withTools = take({ after: from, filter: { hasToolCall: true }, maxBatch: 3 }, 18);
    const withoutTools = take({ after: from, filter: { hasToolCall: false } }, 12);
    const expected = await writeRollouts(30, 10);
    const laterHalf = take({ after: (await t.admin.query(RolloutsDocument, { runId, first: 1000 })).rollouts.nodes.at(-16)!.cursor }, 15);
    const [a, w, wo, l] = await Promise.all([all, withTools, withoutTools, laterHalf]);
    clearTimeout(timer);
    expect(a.map((r) => r.key)).toEqual(expected);
    expect(w.map((r) => r.key)).toEqual(expected.filter((_, i) => i % 10 !== 0 && i % 10 !== 3 && i % 10 !== 6 && i % 10 !== 9));
    expect(wo.map((r) => r.key)).toEqual(expected.filter((_, i) => i % 10 === 0 || i % 10 === 3 || i % 10 === 6 || i % 10 === 9));
    expect(l.map((r) => r.key)).toEqual(expected.slice(15));
  });

  it("refuses out-of-range maxBatch and maxDelayMs with BAD_USER_INPUT", async () => {
    for (const bounds of [{ maxBatch: 0 }, { maxBatch: 100_000 }, { maxDelayMs: -1 }, { maxDelayMs: 5001 }]) {
      const err = await (async () => {
        for await (const _ of t.admin.subscribe(RolloutsAddedDocument, { runId, after: "0", ...bounds })) break;
      })().catch((e) => e);
      expect(err, JSON.stringify(bounds)).toBeInstanceOf(IcrlApiError);
      expect((err as IcrlApiError).code, JSON.stringify(bounds)).toBe("BAD_USER_INPUT");
    }
    const err = await (async () => {
      for await (const _ of t.admin.subscribe(MetricsBatchDocument, { runId, after: "0", maxBatch: 1001 })) break;
    })().catch((e) => e);
    expect((err as IcrlApiError).code).toBe("BAD_USER_INPUT");
  });
});

describe("metricsBatch", () => {
  it("resumes like metricsAdded: the SDK starts it at liveCursor(METRICS)", () => {
    expect(liveStartOf(MetricsBatchDocument, { runId: "r1" })).toEqual({ stream: "METRICS", id: "r1", intCursor: false });
    expect(liveStartOf(RolloutsAddedDocument, { runId: "r1" })).toEqual({ stream: "ROLLOUTS", id: "r1", intCursor: false });
  });

  it("streams the wanted keys in batches within maxBatch, exactly once", async () => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 20_000);
    const got: { key: string; step: number }[] = [];
    const sizes: number[] = [];
    const wrote = (async () => {
      for (let s = 0; s < 10; s++)
        await worker.mutate(LogMetricsDocument, {
          jobId,
          points: [
            { key: "reward/mean", step: s, value: s / 10 },
            { key: "kl", step: s, value: 0.01 },
            { key: "loss", step: s, value: 1 },
          ],
        });
    })();
    for await (const b of t.admin.subscribe(
      MetricsBatchDocument,
      { runId, keys: ["reward/mean", "kl"], after: "0", maxBatch: 4 },
      { signal: controller.signal },
    )) {
      sizes.push(b.metricsBatch.points.length);
      got.push(...b.metricsBatch.points.map((p) => ({ key: p.key, step: p.step })));
      if (got.length >= 20) break;
    }
    clearTimeout(timer);
    await wrote;
    expect(got).toEqual(
      Array.from({ length: 10 }, (_, s) => [
        { key: "reward/mean", step: s },
        { key: "kl", step: s },
      ]).flat(),
    );
    expect(sizes.every((n) => n >= 1 && n <= 4)).toBe(true);
  });
});

describe("a subscriber that stops reading", () => {
  it("holds at most one batch on the server, falls behind the shared window, and gets everything once when it reads again", async () => {
    const feeds = t.server.services.feeds;
    const topic = `rollouts:${runId}` as const;
    const savedWindow = feeds.window;
    feeds.window = 50; // a scaled-down in-memory window: the stalled reader must catch up from Postgres
    const from = await tail();
    // Big rollouts (~30 KB each on the wire), so the stall fills the TCP buffers and backpressure
    // reaches the server: about 18 MB in all.
    const n = 600;
    const maxBatch = 20;

    // The stalled subscriber: a plain graphql-ws client whose TCP socket we pause.
    const sockets: WebSocket[] = [];
    class Tracked extends WebSocket {
      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args);
        sockets.push(this);
      }
    }
    const raw = createWsClient({
      url: t.server.wsUrl,
      webSocketImpl: Tracked,
      connectionParams: { authorization: `Bearer ${ADMIN_KEY}` },
      retryAttempts: 0,
    });
    const stalled: Batch[] = [];
    let failure: unknown = null;
    const unsubscribe = raw.subscribe<RolloutsAddedSubscription>(
      { query: print(RolloutsAddedDocument), variables: { runId, after: from, maxBatch, maxDelayMs: 0 } },
      {
        next: (m) => {
          if (m.data) stalled.push(m.data.rolloutsAdded);
        },
        error: (e) => {
          failure = e;
        },
        complete: () => {},
      },
    );
    // The keeper reads everything as it comes.
    const controller = new AbortController();
    const keeper = collect(
      t.admin.subscribe(RolloutsAddedDocument, { runId, after: from, maxBatch: 100 }, { signal: controller.signal }),
      n,
      controller,
      120_000,
    );
    await until(() => feeds.subscribers(topic) >= 2 && sockets.length === 1, "both subscriptions to open");
    const tcp = (sockets[0] as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    tcp.pause();

    const expected = await writeRollouts(n, 20, 40_000);
    await keeper.done;
    const end = BigInt(await tail());
    // The keeper has read everything and gone; the stalled stream stopped reading well behind the
    // end (more than the window), holding nothing but the one batch it was sending.
    await until(() => feeds.streams(topic).length === 1, "the keeper's stream to close");
    const [behind] = feeds.streams(topic);
    expect(behind.last === null || end - behind.last > BigInt(feeds.window)).toBe(true);
    expect(behind.held).toBeLessThanOrEqual(maxBatch);

    tcp.resume();
    const count = () => stalled.reduce((k, b) => k + b.rollouts.length, 0);
    await until(() => count() >= n || failure !== null, "the stalled subscriber to catch up", 60_000);
    unsubscribe();
    await raw.dispose();
    feeds.window = savedWindow;
    expect(failure).toBeNull();
    expect(stalled.flatMap((b) => b.rollouts.map(keyOf))).toEqual(expected);
    expect(stalled.every((b) => b.rollouts.length <= maxBatch)).toBe(true);
    expect(keeper.got.flatMap((b) => b.rollouts.map(keyOf))).toEqual(expected);
  }, 180_000);
});
