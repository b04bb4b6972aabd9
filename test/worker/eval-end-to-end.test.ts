// A benchmark run end to end: a real server (embedded Postgres), a real worker loop in this process,
// a real tiny GGUF model with a LoRA adapter artifact, real NQ-open questions and a real BM25 search
// tool. The job completes, every item is stored once and readable over GraphQL, the aggregate is
// stored, and progress arrives over the benchmarkProgress subscription.
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BenchmarkProgressDocument,
  BenchmarkRunDocument,
  CancelBenchmarkRunDocument,
  ImportDatasetDocument,
  JobsDocument,
  type BenchmarkProgressSubscription,
} from "../../client-sdk/src/index.js";
import { seededValues, writeLoraAdapter } from "../../worker/engine/gguf/lora-writer.js";
import { Worker } from "../../worker/runtime/worker.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { allItems, captureLog, importQa, NQ_QUICKSTART, startBenchmark, WIKI_CORPUS, workerKey, writeSmallModel } from "./helpers.js";

let t: TestServer;
let dir: string;
let modelPath: string;
let key: string;

beforeAll(async () => {
  t = await startTestServer();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "icrl-eval-e2e-"));
  modelPath = writeSmallModel(dir);
  key = await workerKey(t);
});

afterAll(async () => {
  await t?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function uploadAdapter(): Promise<{ id: string; sha256: string }> {
  const file = path.join(dir, "adapter.gguf");
  const rank = 4;
  writeLoraAdapter({
    out: file,
    architecture: "llama",
    rank,
    alpha: 8,
    tensors: [0, 1].map((layer) => ({
      target: `blk.${layer}.attn_q.weight`,
      inputs: 64,
      outputs: 64,
      a: seededValues(rank * 64, layer + 1, 0.2),
      b: seededValues(64 * rank, layer + 11, 0.2),
    })),
  });
  const body = fs.readFileSync(file);
  const res = await t.admin.http(`/artifacts?kind=ADAPTER&name=adapter.gguf&step=40`, { method: "POST", body });
  expect(res.status).toBe(201);
  const artifact = (await res.json()) as { id: string; sha256: string };
  expect(artifact.sha256).toBe(createHash("sha256").update(body).digest("hex"));
  return artifact;
}

describe("EVAL jobs through a real server and worker", () => {
  it("runs a benchmark end to end: items, aggregate, progress events, adapter", async () => {
    const datasetId = (await t.admin.mutate(ImportDatasetDocument, { input: { name: "nq-quick", kind: "QA", format: "JSONL", path: NQ_QUICKSTART } }))
      .importDataset.id;
    const adapter = await uploadAdapter();
    const log = captureLog();
    const dataDir = path.join(dir, "worker-a");
    // A 60 s poll: the job must be picked up through the jobAvailable subscription, not by polling.
    const worker = new Worker({
      serverUrl: t.server.url,
      token: key,
      name: "e2e",
      threads: 1,
      gpu: false,
      dataDir,
      allowPaths: [dir, path.dirname(WIKI_CORPUS)],
      pollMs: 60_000,
      maxJobs: 1,
      logger: log.logger,
    });
    const running = worker.run();
    await log.next("no job to claim; waiting");

    const run = await startBenchmark(t.admin, {
      name: "nq quick",
      datasetId,
      model: modelPath,
      adapterArtifactId: adapter.id,
      config: { limit: 12, parallel: 4, tools: { search: { kind: "local", corpus: WIKI_CORPUS } } },
    });
    expect(run.total).toBe(12);
    const created = Date.now();

    const events: BenchmarkProgressSubscription["benchmarkProgress"][] = [];
    const progress = (async () => {
      for await (const e of t.admin.subscribe(BenchmarkProgressDocument, { benchmarkRunId: run.id, after: "0" })) {
        events.push(e.benchmarkProgress);
        if (["SUCCEEDED", "FAILED", "CANCELLED"].includes(e.benchmarkProgress.benchmarkRun.status)) return;
      }
    })();

    const summary = await running;
    expect(summary).toMatchObject({ jobs: 1, clean: true });
    expect(Date.now() - created).toBeLessThan(45_000);
    await progress;

    const final = (await t.admin.query(BenchmarkRunDocument, { id: run.id, first: 1 })).benchmarkRun!;
    expect(final.status).toBe("SUCCEEDED");
    expect(final.completed).toBe(12);
    expect(final.error).toBeNull();
    expect(final.adapterArtifact?.id).toBe(adapter.id);

    // Items: the first 12 questions of the file, once each, with the metrics the table and analyses use.
    const source = fs
      .readFileSync(NQ_QUICKSTART, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const items = await allItems(t.admin, run.id);
    expect(items.map((i) => i.itemIndex)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    for (const item of items) {
      const expected = source[item.itemIndex];
      expect(item.itemId).toBe(expected.id);
      expect(item.question).toBe(expected.question);
      expect(item.golds).toEqual(expected.golden_answers);
      const m = item.metrics as Record<string, unknown>;
      expect(m.em).toBe(item.score);
      expect(typeof m.f1).toBe("number");
      expect(m.toolCalls).toEqual(expect.any(Number));
      expect(m.turns).toBeGreaterThanOrEqual(1);
      expect(m.tokens).toBeGreaterThan(0);
      expect(["answer", "length", "max_turns", "eos"]).toContain(m.finishReason);
      expect(item.trajectory[0].kind).toBe("MODEL");
      expect(item.trajectory.map((s) => s.text).join("").length).toBeGreaterThan(0);
    }

    // The aggregate is the mean over the stored items.
    const mean = (key: string) => items.reduce((a, i) => a + Number((i.metrics as Record<string, number>)[key]), 0) / items.length;
    const aggregate = final.aggregate as Record<string, number>;
    expect(aggregate.n).toBe(12);
    expect(aggregate.em).toBeCloseTo(mean("em"), 10);
    expect(aggregate.f1).toBeCloseTo(mean("f1"), 10);
    expect(aggregate.accuracy).toBeCloseTo(mean("em"), 10);
    expect(aggregate.turnsMean).toBeCloseTo(mean("turns"), 10);
    expect(aggregate.tokensMean).toBeCloseTo(mean("tokens"), 10);
    expect(aggregate.toolCallsMean).toBeCloseTo(mean("toolCalls"), 10);

    // Progress: every item arrived exactly once over the subscription, then the final status.
    const streamed = events.flatMap((e) => e.items.map((i) => i.itemIndex)).sort((a, b) => a - b);
    expect(streamed).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(events.at(-1)!.benchmarkRun.status).toBe("SUCCEEDED");
    expect(events.some((e) => e.benchmarkRun.status === "RUNNING" && e.items.length > 0)).toBe(true);

    const jobs = (await t.admin.query(JobsDocument, { first: 10 })).jobs.nodes.filter((j) => j.benchmarkRun?.id === run.id);
    expect(jobs.map((j) => j.status)).toEqual(["SUCCEEDED"]);

    // The adapter was downloaded into the worker's cache and matches the artifact's hash.
    const cached = fs.readFileSync(path.join(dataDir, "adapters", `${adapter.id}.gguf`));
    expect(createHash("sha256").update(cached).digest("hex")).toBe(adapter.sha256);
    expect(log.lines.some((l) => l.msg === "evaluation started" && (l.tools as string[]).includes("search"))).toBe(true);
  });

  it("fails the job without retrying when the model file does not exist on the worker", async () => {
    const datasetId = (
      await t.admin.mutate(ImportDatasetDocument, { input: { name: "nq-missing-model", kind: "QA", format: "JSONL", path: NQ_QUICKSTART } })
    ).importDataset.id;
    const missing = path.join(dir, "no-such-model.gguf");
    const run = await startBenchmark(t.admin, { name: "missing model", datasetId, model: missing, config: { limit: 2 } });
    const worker = new Worker({
      serverUrl: t.server.url,
      token: key,
      name: "e2e-missing",
      threads: 1,
      gpu: false,
      dataDir: path.join(dir, "worker-b"),
      allowPaths: [dir],
      pollMs: 100,
      maxJobs: 1,
    });
    await worker.run();
    const final = (await t.admin.query(BenchmarkRunDocument, { id: run.id, first: 1 })).benchmarkRun!;
    expect(final.status).toBe("FAILED");
    expect(final.error).toContain(missing);
    expect(final.error).toMatch(/does not exist on this worker.*benchmarkRun\.model must be the path of a GGUF file/);
    const job = (await t.admin.query(JobsDocument, { first: 10 })).jobs.nodes.find((j) => j.benchmarkRun?.id === run.id)!;
    expect(job.status).toBe("FAILED");
    expect(job.attempts).toBe(1);
  });

  it("stops at the next batch when the run is cancelled, keeps what was done and ends CANCELLED", async () => {
    const datasetId = await importQa(t, dir, "to-cancel", 30);
    const run = await startBenchmark(t.admin, { name: "cancel me", datasetId, model: modelPath, config: { parallel: 1 } });
    const log = captureLog();
    const worker = new Worker({
      serverUrl: t.server.url,
      token: key,
      name: "e2e-cancel",
      threads: 1,
      gpu: false,
      dataDir: path.join(dir, "worker-c"),
      allowPaths: [dir],
      pollMs: 100,
      heartbeatMs: 150,
      maxJobs: 1,
      logger: log.logger,
    });
    const running = worker.run();
    await log.next("benchmark batch done");
    await t.admin.mutate(CancelBenchmarkRunDocument, { id: run.id });
    expect(await running).toMatchObject({ jobs: 1, clean: true });

    const final = (await t.admin.query(BenchmarkRunDocument, { id: run.id, first: 1 })).benchmarkRun!;
    expect(final.status).toBe("CANCELLED");
    expect(final.completed).toBeGreaterThanOrEqual(1);
    expect(final.completed).toBeLessThan(30);
    expect((await allItems(t.admin, run.id)).length).toBe(final.completed);
    expect((final.aggregate as { n: number; cancelled?: boolean }).n).toBe(final.completed);
    const job = (await t.admin.query(JobsDocument, { first: 20 })).jobs.nodes.find((j) => j.benchmarkRun?.id === run.id)!;
    expect(job.status).toBe("CANCELLED");
    expect(log.lines.some((l) => l.msg === "evaluation cancelled")).toBe(true);
  });
});
