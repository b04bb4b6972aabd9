// The server goes away in the middle of a benchmark and comes back on the same database and port.
// The worker keeps evaluating, buffers its results, retries, and finishes the job: every item index
// is stored exactly once, completed == total, and the aggregate covers all items.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BenchmarkRunDocument, JobsDocument } from "../../client-sdk/src/index.js";
import { startServer, type RunningServer } from "../../server/main.js";
import { createLogger } from "../../server/logger.js";
import { Worker } from "../../worker/runtime/worker.js";
import { ADMIN_KEY, startTestServer, type TestServer } from "../support/server.js";
import { allItems, captureLog, importQa, startBenchmark, workerKey, writeSmallModel } from "./helpers.js";

let t: TestServer;
let dir: string;
let second: RunningServer | null = null;

beforeAll(async () => {
  t = await startTestServer();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "icrl-restart-"));
});

afterAll(async () => {
  await second?.stop();
  await t?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("server restart during a benchmark", () => {
  it("loses nothing and duplicates nothing", async () => {
    const modelPath = writeSmallModel(dir);
    const datasetId = await importQa(t, dir, "restart-qa", 16);
    const run = await startBenchmark(t.admin, { name: "restart", datasetId, model: modelPath, config: { parallel: 2 } });
    const log = captureLog();
    const worker = new Worker({
      serverUrl: t.server.url,
      token: await workerKey(t),
      name: "survivor",
      threads: 1,
      gpu: false,
      dataDir: path.join(dir, "worker"),
      allowPaths: [dir],
      pollMs: 100,
      maxJobs: 1,
      logger: log.logger,
      outbox: { retry: { initialMs: 100, maxMs: 500 } },
    });
    const running = worker.run();

    // Pull the server out from under the worker as soon as the first batch of results exists.
    await log.next("benchmark batch done");
    await t.server.stop();
    const doneBeforeStop = log.lines.filter((l) => l.msg === "benchmark batch done").length;
    await log.next(/outbox batch not delivered|cannot reach the server/);
    await new Promise((r) => setTimeout(r, 1000)); // stay down a while: the worker keeps generating

    second = await startServer(
      { port: t.server.port, host: "127.0.0.1", databaseUrl: t.databaseUrl, artifactDir: t.artifactDir, adminKey: ADMIN_KEY },
      { logger: createLogger({ level: "silent" }), env: {} },
    );
    const summary = await running;
    expect(summary).toMatchObject({ jobs: 1, clean: true });
    // Results were produced while the server was away, and they still arrived.
    expect(log.lines.filter((l) => l.msg === "benchmark batch done").length).toBeGreaterThan(doneBeforeStop);
    expect(log.lines.some((l) => l.msg === "outbox batch not delivered; retrying")).toBe(true);

    const final = (await t.admin.query(BenchmarkRunDocument, { id: run.id, first: 1 })).benchmarkRun!;
    expect(final.status).toBe("SUCCEEDED");
    expect(final.total).toBe(16);
    expect(final.completed).toBe(16);
    const items = await allItems(t.admin, run.id);
    expect(items.map((i) => i.itemIndex)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect((final.aggregate as { n: number }).n).toBe(16);
    const job = (await t.admin.query(JobsDocument, { first: 10 })).jobs.nodes.find((j) => j.benchmarkRun?.id === run.id)!;
    expect(job.status).toBe("SUCCEEDED");
    expect(job.attempts).toBe(0); // the lease survived the outage: no attempt was lost
  });
});
