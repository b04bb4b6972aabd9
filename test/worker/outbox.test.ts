// The streaming outbox against a real HTTP server that goes down and comes back: nothing is lost,
// nothing is sent twice, order holds per stream, memory stays bounded by spilling to disk, oversized
// batches are split, and a lost lease stops the stream.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, ReportBenchmarkItemsDocument, type BenchmarkItemInput, type IcrlClient } from "../../client-sdk/src/index.js";
import { Outbox, OutboxStreamFailed } from "../../client-sdk/src/index.js";
import { startItemServer, type ItemServer } from "./item-server.js";

let server: ItemServer;
let client: IcrlClient;
let dir: string;

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

function item(i: number, padding = 0): BenchmarkItemInput {
  return {
    itemIndex: i,
    itemId: `q${i}`,
    question: `question ${i}`,
    prediction: "x".repeat(padding),
    golds: ["a"],
    score: 0,
    metrics: {},
    trajectory: [{ kind: "MODEL", text: `answer ${i}` }],
  };
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

const fastRetry = { initialMs: 30, maxMs: 150 };
const send = (items: BenchmarkItemInput[], signal: AbortSignal) => client.mutate(ReportBenchmarkItemsDocument, { jobId: "job", items }, { signal });

beforeAll(async () => {
  server = await startItemServer();
  client = createClient({ url: server.url, token: "test" });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "icrl-outbox-"));
});

afterAll(async () => {
  await client?.close();
  await server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function reset(): Promise<void> {
  await server.stop();
  server = await startItemServer();
  await client.close();
  client = createClient({ url: server.url, token: "test" });
}

describe("outbox", () => {
  it("delivers every item exactly once and in order across a server outage", async () => {
    await reset();
    const outbox = new Outbox({ lingerMs: 20, retry: fastRetry });
    const stream = outbox.stream("items", { send, maxBatchItems: 10 });
    for (const i of range(0, 30)) stream.enqueue(item(i));
    await stream.flush();
    expect(server.stored).toEqual(range(0, 30));

    await server.stop();
    for (const i of range(30, 80)) stream.enqueue(item(i));
    const flushed = stream.flush();
    await waitFor(() => stream.stats().retries >= 2); // it really tried while the server was down
    expect(server.stored).toHaveLength(30);
    expect(stream.stats().delivered).toBe(30);
    await server.start();
    await flushed;

    expect(server.stored).toEqual(range(0, 80));
    // Acknowledged batches were never sent again, and every batch respected the size limit.
    expect(server.requests.flat()).toEqual(range(0, 80));
    expect(Math.max(...server.requests.map((r) => r.length))).toBeLessThanOrEqual(10);
    await outbox.close();
    expect(outbox.stats()).toEqual([]);
  });

  it("spills to disk past its memory budget and reads the tail back in order", async () => {
    await reset();
    await server.stop();
    const spillDir = path.join(dir, "spill");
    const outbox = new Outbox({ dir: spillDir, maxMemoryItems: 10, lingerMs: 10, retry: fastRetry });
    const stream = outbox.stream("big", { send, maxBatchItems: 25 });
    for (const i of range(0, 200)) stream.enqueue(item(i, 500));

    const stats = stream.stats();
    expect(stats.inMemory).toBeLessThanOrEqual(10);
    expect(stats.spilled).toBe(200 - stats.inMemory);
    const files = fs.readdirSync(spillDir);
    expect(files).toHaveLength(1);
    const lines = fs.readFileSync(path.join(spillDir, files[0]), "utf8").trim().split("\n");
    expect(lines).toHaveLength(stats.spilled);
    expect(JSON.parse(lines[0]).itemIndex).toBe(stats.inMemory);

    await server.start();
    await stream.flush();
    expect(server.stored).toEqual(range(0, 200));
    expect(server.requests.flat()).toEqual(range(0, 200));
    await outbox.close();
    expect(fs.readdirSync(spillDir)).toEqual([]);
  });

  it("keeps several streams independent and ordered", async () => {
    await reset();
    const outbox = new Outbox({ lingerMs: 5, retry: fastRetry });
    const received: Record<string, number[]> = { a: [], b: [] };
    const streams = (["a", "b"] as const).map((key) =>
      outbox.stream<number>(key, {
        send: async (batch) => {
          await new Promise((r) => setTimeout(r, key === "a" ? 15 : 1));
          received[key].push(...batch);
        },
        maxBatchItems: 7,
      }),
    );
    for (const i of range(0, 50)) for (const s of streams) s.enqueue(i);
    await outbox.flush();
    expect(received.a).toEqual(range(0, 50));
    expect(received.b).toEqual(range(0, 50));
    await outbox.close();
  });

  it("splits batches the server refuses as too large", async () => {
    await reset();
    server.maxItems = 3;
    const outbox = new Outbox({ lingerMs: 50, retry: fastRetry });
    const stream = outbox.stream("split", { send, maxBatchItems: 8 });
    for (const i of range(0, 20)) stream.enqueue(item(i));
    await stream.flush();
    expect(server.stored).toEqual(range(0, 20));
    expect(server.requests.some((r) => r.length > 3)).toBe(true); // it did try bigger batches first
    await outbox.close();
  });

  it("fails the stream when the lease is lost: flush rejects, nothing more is sent", async () => {
    await reset();
    server.forbid = true;
    const failures: string[] = [];
    const outbox = new Outbox({ lingerMs: 5, retry: fastRetry });
    const stream = outbox.stream("lost", { send, onFailure: (_err, kind) => failures.push(kind) });
    for (const i of range(0, 5)) stream.enqueue(item(i));
    const error = await stream.flush().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OutboxStreamFailed);
    expect((error as OutboxStreamFailed).kind).toBe("lease-lost");
    expect(failures).toEqual(["lease-lost"]);
    expect(() => stream.enqueue(item(6))).toThrow(OutboxStreamFailed);
    await new Promise((r) => setTimeout(r, 100));
    expect(server.requests).toHaveLength(1);
    expect(server.stored).toEqual([]);
    await stream.discard();
  });

  it("lets a flush give up while the server is down, and discard drops what is left", async () => {
    await reset();
    await server.stop();
    const outbox = new Outbox({ lingerMs: 5, retry: fastRetry });
    const stream = outbox.stream("abandoned", { send });
    for (const i of range(0, 5)) stream.enqueue(item(i));
    await expect(stream.flush({ signal: AbortSignal.timeout(200) })).rejects.toThrow(/aborted/);
    await stream.discard();
    await server.start();
    await new Promise((r) => setTimeout(r, 200));
    expect(server.stored).toEqual([]);
    expect(outbox.stats()).toEqual([]);
  });

  it("replaces a stream that failed for good: the same key starts clean and delivers", async () => {
    await reset();
    server.forbid = true;
    const outbox = new Outbox({ lingerMs: 5, retry: fastRetry });
    const dead = outbox.stream("job-1", { send });
    dead.enqueue(item(0));
    await expect(dead.flush()).rejects.toBeInstanceOf(OutboxStreamFailed);
    server.forbid = false;
    const fresh = outbox.stream("job-1", { send });
    expect(fresh).not.toBe(dead);
    for (const i of range(1, 4)) fresh.enqueue(item(i));
    await fresh.flush();
    expect(server.stored).toEqual([1, 2, 3]);
    await outbox.close();
  });
});
