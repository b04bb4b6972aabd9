// `icrl worker` as a real child process: SIGTERM in the middle of a job finishes the current batch,
// delivers its results, releases the job (back to QUEUED, no attempt counted) and exits 0. Another
// worker then resumes the job without redoing or duplicating items, and the aggregate covers all of
// them, including those the first worker stored.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BenchmarkRunDocument, JobsDocument } from "../../client-sdk/src/index.js";
import { Worker } from "../../worker/runtime/worker.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { allItems, importQa, PROJECT_ROOT, startBenchmark, workerKey, writeSmallModel } from "./helpers.js";

let t: TestServer;
let dir: string;
let child: ChildProcess | null = null;

beforeAll(async () => {
  t = await startTestServer();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "icrl-sigterm-"));
});

afterAll(async () => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  await t?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("worker process shutdown", () => {
  it("releases its job on SIGTERM and exits 0; another worker resumes it", async () => {
    const modelPath = writeSmallModel(dir);
    const datasetId = await importQa(t, dir, "sigterm-qa", 30);
    const run = await startBenchmark(t.admin, { name: "sigterm", datasetId, model: modelPath, config: { parallel: 1 } });
    const key = await workerKey(t);

    child = spawn(
      process.execPath,
      [
        path.join(PROJECT_ROOT, "bin/icrl.js"),
        "worker",
        "--server",
        t.server.url,
        "--token",
        key,
        "--name",
        "to-stop",
        "--threads",
        "1",
        "--gpu",
        "cpu",
        "--data-dir",
        path.join(dir, "child"),
        "--allow-path",
        dir,
        "--poll-ms",
        "200",
        "--log-level",
        "debug",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child!.once("exit", (code) => resolve(code)));
    const lines: Record<string, unknown>[] = [];
    const firstBatch = new Promise<void>((resolve, reject) => {
      readline.createInterface({ input: child!.stdout! }).on("line", (text) => {
        const line = JSON.parse(text) as Record<string, unknown>;
        lines.push(line);
        if (line.msg === "benchmark batch done") resolve();
      });
      void exited.then((code) => reject(new Error(`worker exited (${code}) before its first batch: ${stderr}`)));
    });
    await firstBatch;
    child.kill("SIGTERM");
    expect(await exited).toBe(0);

    const messages = lines.map((l) => l.msg);
    expect(messages).toContain("job released for another worker");
    expect(messages.at(-1)).toBe("worker stopped");
    const job = (await t.admin.query(JobsDocument, { first: 10 })).jobs.nodes.find((j) => j.benchmarkRun?.id === run.id)!;
    expect(job.status).toBe("QUEUED");
    expect(job.attempts).toBe(0);
    expect(job.leaseOwner).toBeNull();
    const stopped = (await t.admin.query(BenchmarkRunDocument, { id: run.id, first: 1 })).benchmarkRun!;
    expect(stopped.status).toBe("QUEUED");
    expect(stopped.completed).toBeGreaterThanOrEqual(1);
    expect(stopped.completed).toBeLessThan(30);
    // What was evaluated before the signal was delivered, not dropped.
    const lastDone = lines.filter((l) => l.msg === "benchmark batch done").at(-1)!.done as number;
    expect(stopped.completed).toBe(lastDone);

    // A second worker picks the job up and only evaluates what is missing.
    const resumed = new Worker({
      serverUrl: t.server.url,
      token: key,
      name: "resumer",
      threads: 1,
      gpu: false,
      dataDir: path.join(dir, "resumer"),
      allowPaths: [dir],
      pollMs: 100,
      maxJobs: 1,
    });
    await resumed.run();
    const final = (await t.admin.query(BenchmarkRunDocument, { id: run.id, first: 1 })).benchmarkRun!;
    expect(final.status).toBe("SUCCEEDED");
    expect(final.completed).toBe(30);
    const items = await allItems(t.admin, run.id);
    expect(items.map((i) => i.itemIndex)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    const aggregate = final.aggregate as Record<string, number>;
    expect(aggregate.n).toBe(30);
    const meanTokens = items.reduce((a, i) => a + (i.metrics as { tokens: number }).tokens, 0) / items.length;
    expect(aggregate.tokensMean).toBeCloseTo(meanTokens, 10);
  });
});
