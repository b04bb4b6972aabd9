// The shared feed (server/events/feed.ts) with real LISTEN/NOTIFY and a row source the test controls,
// so the races between a subscriber opening and the feed fetching can be made to happen every time.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, createTestDatabase, type TestDatabase } from "../../server/index.js";
import { FeedRegistry } from "../../server/events/feed.js";
import { EventHub, notifyPayload } from "../../server/events/hub.js";

let db: TestDatabase;
let hub: EventHub;
let notifier: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  hub = new EventHub(db.url, createLogger({ level: "silent" }));
  await hub.start();
  notifier = new pg.Client({ connectionString: db.url });
  await notifier.connect();
});

afterAll(async () => {
  await notifier?.end();
  await hub?.close();
  await db?.drop();
});

/** A table of rows in memory whose fetches can be held at a gate. */
function source() {
  const rows: { cursor: bigint }[] = [];
  let gate: Promise<void> | null = null;
  let open: () => void = () => {};
  let held = 0;
  return {
    rows,
    get held() {
      return held;
    },
    hold() {
      gate = new Promise((r) => (open = r));
    },
    release() {
      gate = null;
      open();
    },
    fetch: async (after: bigint, limit: number) => {
      // What is committed when the query starts is what it returns.
      const snapshot = rows.filter((r) => r.cursor > after).slice(0, limit);
      if (gate) {
        held++;
        await gate;
      }
      return snapshot;
    },
  };
}

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function follow(stream: AsyncGenerator<{ cursor: bigint }[]>) {
  const got: bigint[] = [];
  const done = (async () => {
    for await (const batch of stream) got.push(...batch.map((r) => r.cursor));
  })();
  return { got, done };
}

describe("FeedRegistry", () => {
  it("a subscriber that opens while the feed is still fetching rows announced before it listened gets them", async () => {
    const feeds = new FeedRegistry(hub);
    const src = source();
    const topic = "rollouts:feed-race" as const;
    const stop = new AbortController();
    const options = { topic, tail: async () => 0n, fetch: src.fetch, signal: stop.signal, maxBatch: 100, maxDelayMs: 0 };
    const first = follow(feeds.batches({ ...options, after: 0n }));
    await until(() => feeds.streams(topic).length === 1, "the first stream");
    // Give the first stream's own catch-up read time to seed the feed, then hold the feed's next fetch.
    await new Promise((r) => setTimeout(r, 50));
    src.hold();
    src.rows.push({ cursor: 1n }, { cursor: 2n }, { cursor: 3n });
    await notifier.query("SELECT pg_notify($1, $2)", notifyPayload(topic, 3));
    await until(() => src.held === 1, "the feed's fetch to start");
    // The notification has come and gone; the second subscriber listens only from now on.
    const second = follow(feeds.batches({ ...options, after: 0n }));
    await until(() => feeds.streams(topic).length === 2, "the second stream");
    src.release();
    await until(() => first.got.length === 3 && second.got.length === 3, "both streams to have rows 1-3");
    expect(second.got).toEqual([1n, 2n, 3n]);
    stop.abort();
    await Promise.all([first.done, second.done]);
    expect(feeds.subscribers(topic)).toBe(0);
  });

  it("a batch fills up to maxBatch, and one that is not full waits for company (up to maxDelayMs)", async () => {
    const feeds = new FeedRegistry(hub);
    const src = source();
    const topic = "rollouts:feed-batch" as const;
    const stop = new AbortController();
    const batches: bigint[][] = [];
    const done = (async () => {
      for await (const b of feeds.batches({
        topic,
        after: 0n,
        tail: async () => 0n,
        fetch: src.fetch,
        signal: stop.signal,
        maxBatch: 4,
        maxDelayMs: 5000,
      }))
        batches.push(b.map((r) => r.cursor));
    })();
    await until(() => feeds.streams(topic).length === 1, "the stream");
    await new Promise((r) => setTimeout(r, 50));
    src.rows.push({ cursor: 1n }, { cursor: 2n });
    await notifier.query("SELECT pg_notify($1, $2)", notifyPayload(topic, 2));
    src.rows.push({ cursor: 3n }, { cursor: 4n }, { cursor: 5n });
    await notifier.query("SELECT pg_notify($1, $2)", notifyPayload(topic, 5));
    // Full at four rows: sent without waiting out the 5 s delay.
    await until(() => batches.length === 1, "the full batch", 4000);
    expect(batches[0]).toEqual([1n, 2n, 3n, 4n]);
    // Row 5 alone waits for company; ending the subscription sends what it has.
    await new Promise((r) => setTimeout(r, 100));
    expect(batches).toHaveLength(1);
    stop.abort();
    await done;
    expect(batches).toEqual([[1n, 2n, 3n, 4n], [5n]]);
  });
});
