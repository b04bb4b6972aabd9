// `icrl bench` against a real server: `show` prints the paper-style table (rows model/checkpoint,
// columns benchmarks + Avg, EM x100 with one decimal; newest successful run per cell), and `run
// --watch` starts a run and follows its progress to the end. Runs are finished through the real
// worker protocol (claim, report items, complete with an aggregate), as a worker would.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BenchmarkRunDocument,
  ClaimJobDocument,
  CompleteJobDocument,
  CreateExperimentDocument,
  CreateRunDocument,
  FailJobDocument,
  ImportDatasetDocument,
  RegisterWorkerDocument,
  ReportBenchmarkItemsDocument,
  type IcrlClient,
} from "../../client-sdk/src/index.js";
import { LOOKUP_TEMPLATE } from "../../cli/demo/lookup-task.js";
import { ADMIN_KEY, startTestServer, type TestServer } from "../support/server.js";
import { importQa, PROJECT_ROOT, startBenchmark, workerKey } from "./helpers.js";

let t: TestServer;
let dir: string;
let worker: IcrlClient;

beforeAll(async () => {
  t = await startTestServer();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "icrl-bench-cli-"));
  const reg = await t.client(await workerKey(t)).mutate(RegisterWorkerDocument, { name: "scripted", capabilities: { backend: "cpu" } });
  worker = t.client(reg.registerWorker.token);
});

afterAll(async () => {
  await t?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [path.join(PROJECT_ROOT, "bin/icrl.js"), "bench", ...args, "--server", t.server.url, "--token", ADMIN_KEY],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Claim the next EVAL job and finish it the way a worker does: items first, then the aggregate. */
async function finishNext(outcome: { em?: number; accuracy?: number; items?: number } | "fail"): Promise<string> {
  const claimed = (await worker.mutate(ClaimJobDocument, { kinds: ["EVAL"] })).claimJob!;
  const jobId = claimed.job.id;
  if (outcome === "fail") {
    await worker.mutate(FailJobDocument, { jobId, error: "model exploded", retry: false });
    return claimed.job.benchmarkRun!.id;
  }
  const n = outcome.items ?? 1;
  const items = Array.from({ length: n }, (_, i) => ({
    itemIndex: i,
    itemId: `q${i}`,
    question: "q",
    prediction: "p",
    golds: ["g"],
    score: outcome.em ?? outcome.accuracy ?? 0,
    metrics: {},
    trajectory: [{ kind: "MODEL" as const, text: "<answer> p </answer>" }],
  }));
  await worker.mutate(ReportBenchmarkItemsDocument, { jobId, items });
  await worker.mutate(CompleteJobDocument, { jobId, result: { aggregate: { ...outcome, n } } });
  return claimed.job.benchmarkRun!.id;
}

async function uploadAdapter(step: number): Promise<string> {
  const res = await t.admin.http(`/artifacts?kind=ADAPTER&name=ckpt-${step}.gguf&step=${step}`, {
    method: "POST",
    body: Buffer.from(`adapter ${step}`),
  });
  return ((await res.json()) as { id: string }).id;
}

describe("icrl bench", () => {
  it("show prints one row per model/checkpoint and one column per benchmark", async () => {
    const nq = await importQa(t, dir, "nq", 3);
    const hotpot = await importQa(t, dir, "hotpotqa", 3);
    const mathFile = path.join(dir, "math.jsonl");
    fs.writeFileSync(mathFile, JSON.stringify({ id: "m0", problem: "1+1?", answer: "2" }) + "\n");
    const math = (await t.admin.mutate(ImportDatasetDocument, { input: { name: "math", kind: "MATH", format: "JSONL", path: mathFile } }))
      .importDataset.id;
    const step100 = await uploadAdapter(100);
    const base = "/models/qwen-3b.gguf";

    // Started and finished in this order (the queue is FIFO).
    await startBenchmark(t.admin, { name: "old nq", datasetId: nq, model: base });
    await finishNext({ em: 0.1 }); // superseded by the newer run below
    await startBenchmark(t.admin, { name: "nq", datasetId: nq, model: base });
    await finishNext({ em: 0.4236 });
    await startBenchmark(t.admin, { name: "hotpot", datasetId: hotpot, model: base });
    await finishNext({ em: 0.2 });
    await startBenchmark(t.admin, { name: "math", datasetId: math, model: base });
    await finishNext({ accuracy: 0.5 }); // no em: the benchmark's own accuracy is shown
    await startBenchmark(t.admin, { name: "nq ckpt", datasetId: nq, model: base, adapterArtifactId: step100 });
    await finishNext({ em: 0.55 });
    await startBenchmark(t.admin, { name: "failed", datasetId: hotpot, model: base, adapterArtifactId: step100 });
    await finishNext("fail"); // failed runs are not results

    const json = await cli(["show", "--json"]);
    expect(json.stderr).toBe("");
    expect(json.code).toBe(0);
    const table = JSON.parse(json.stdout) as {
      benchmarks: string[];
      rows: { label: string; scores: Record<string, number | null>; avg: number | null }[];
    };
    expect(table.benchmarks).toEqual(["hotpotqa", "math", "nq"]);
    expect(table.rows.map((r) => r.label)).toEqual(["qwen-3b", "qwen-3b @ step 100"]);
    expect(table.rows[0].scores).toEqual({ hotpotqa: 20, math: 50, nq: 42.36 });
    expect(table.rows[0].avg).toBe(37.4533);
    expect(table.rows[1].scores).toEqual({ hotpotqa: null, math: null, nq: 55 });
    expect(table.rows[1].avg).toBe(55);

    const text = await cli(["show", "--dataset", nq, "--dataset", hotpot]);
    expect(text.code).toBe(0);
    expect(text.stdout.split("\n").slice(0, 4)).toEqual([
      "Model              |   nq | hotpotqa |  Avg",
      "-------------------|------|----------|-----",
      "qwen-3b            | 42.4 |     20.0 | 31.2",
      "qwen-3b @ step 100 | 55.0 |        - | 55.0",
    ]);
  });

  it("run --watch starts a benchmark and follows it until it finishes", async () => {
    const dataset = await importQa(t, dir, "watched", 4);
    const child = spawn(
      process.execPath,
      [
        path.join(PROJECT_ROOT, "bin/icrl.js"),
        "bench",
        "run",
        "--dataset",
        dataset,
        "--model",
        "/models/m.gguf",
        "--limit",
        "3",
        "--shots",
        "0",
        "--watch",
        "--json",
        "--server",
        t.server.url,
        "--token",
        ADMIN_KEY,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const lines: Record<string, any>[] = [];
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const started = new Promise<void>((resolve) =>
      readline.createInterface({ input: child.stdout }).on("line", (text) => {
        lines.push(JSON.parse(text));
        if (lines.at(-1)!.type === "started") resolve();
      }),
    );
    await started;
    expect(lines[0].benchmarkRun).toMatchObject({ total: 3, config: expect.objectContaining({ limit: 3, shots: 0 }) });
    await finishNext({ em: 1, items: 3 });
    expect(await exited).toBe(0);
    const progress = lines.filter((l) => l.type === "progress");
    expect(progress.at(-1)).toMatchObject({ status: "SUCCEEDED", completed: 3, total: 3 });
    expect(lines.at(-1)).toMatchObject({ type: "end", status: "SUCCEEDED", completed: 3, aggregate: { em: 1, n: 3 } });
  });

  it("run --run evaluates a training run's adapter with the run's model, template, chat template arguments, tools, budgets and validation split", async () => {
    const file = path.join(dir, "lookup.jsonl");
    const lines = ["t0", "t1", "v0", "v1", "v2"].map((id) =>
      JSON.stringify({ id, question: `Code of ${id}?`, golden_answers: ["123"], split: id.startsWith("v") ? "val" : "train" }),
    );
    fs.writeFileSync(file, lines.join("\n") + "\n");
    const datasetId = (await t.admin.mutate(ImportDatasetDocument, { input: { name: "lookup", kind: "QA", format: "JSONL", path: file } }))
      .importDataset.id;
    const experimentId = (await t.admin.mutate(CreateExperimentDocument, { name: "bench-from-run" })).createExperiment.id;
    const tools = { search: { kind: "local", corpus: "/data/lookup-corpus.jsonl", topK: 1, maxTokens: 64 } };
    const run = (
      await t.admin.mutate(CreateRunDocument, {
        experimentId,
        name: "lookup-3-2-0",
        config: {
          model: { path: "/models/lookup.gguf", contextSize: 1024, chatTemplateArgs: { enable_thinking: false } },
          dataset: { id: datasetId, validationSplit: "val" },
          tools,
          template: LOOKUP_TEMPLATE,
          reward: { metric: "subem" },
          rollout: { maxToolTurns: 2, maxTurnTokens: 48, maxTotalTokens: 256 },
        },
      })
    ).createRun;
    const noCheckpoint = await cli(["run", "--run", run.id]);
    expect(noCheckpoint.code).toBe(2);
    expect(noCheckpoint.stderr).toContain(`Run ${run.id} has no adapter checkpoint yet`);

    // The run's worker stores adapters at steps 2 and 4, as TRAIN jobs do at each checkpoint.
    const claimed = (await worker.mutate(ClaimJobDocument, { kinds: ["TRAIN"] })).claimJob!;
    expect(claimed.job.run?.id).toBe(run.id);
    const adapters: Record<number, string> = {};
    for (const step of [2, 4]) {
      const res = await worker.http(`/artifacts?kind=ADAPTER&name=adapter-step-${step}.gguf&step=${step}&jobId=${claimed.job.id}`, {
        method: "POST",
        body: Buffer.from(`adapter ${step}`),
      });
      expect(res.status).toBe(201);
      adapters[step] = ((await res.json()) as { id: string }).id;
    }

    const expected = {
      split: "val",
      task: "qa",
      metric: "subem",
      tools: { search: tools.search },
      template: expect.objectContaining({ name: LOOKUP_TEMPLATE.name, instructions: LOOKUP_TEMPLATE.instructions }),
      chatTemplateArgs: { enable_thinking: false },
      maxToolTurns: 2,
      maxTurnTokens: 48,
      maxTotalTokens: 256,
      contextSize: 1024,
      shots: 0,
    };
    const latest = await cli(["run", "--run", run.id, "--json"]);
    expect(latest.code, latest.stderr).toBe(0);
    const started = JSON.parse(latest.stdout) as { id: string };
    const stored = (await t.admin.query(BenchmarkRunDocument, { id: started.id, first: 1 })).benchmarkRun!;
    expect(stored).toMatchObject({
      name: "lookup-3-2-0 @ step 4 / lookup",
      model: "/models/lookup.gguf",
      dataset: { id: datasetId },
      adapterArtifact: { id: adapters[4], step: 4 },
      total: 3, // the validation split only
      config: expect.objectContaining(expected),
    });

    // --step picks an earlier checkpoint; flags still win over the run's settings.
    const early = await cli(["run", "--run", run.id, "--step", "2", "--limit", "2", "--json"]);
    expect(early.code, early.stderr).toBe(0);
    const earlyRun = (await t.admin.query(BenchmarkRunDocument, { id: (JSON.parse(early.stdout) as { id: string }).id, first: 1 })).benchmarkRun!;
    expect(earlyRun).toMatchObject({ adapterArtifact: { id: adapters[2], step: 2 }, total: 2, config: expect.objectContaining({ limit: 2 }) });

    const missing = await cli(["run", "--run", run.id, "--step", "3"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("no adapter checkpoint at step 3; its adapter checkpoints are at steps 2, 4");
    const unknown = await cli(["run", "--run", "00000000-0000-4000-8000-000000000000"]);
    expect(unknown.code).toBe(3);
    const stepAlone = await cli(["run", "--dataset", datasetId, "--model", "/m.gguf", "--step", "2"]);
    expect(stepAlone.code).toBe(2);
    expect(stepAlone.stderr).toContain("--step picks a checkpoint of --run RUN");
  });

  it("refuses bad input with exit code 2", async () => {
    const res = await cli(["run", "--dataset", "not-an-id", "--model", "/m.gguf"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/dataset id/);
    const neither = await cli(["run", "--model", "/m.gguf"]);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain("needs --dataset ID and --model PATH, or --run RUN");
  });
});
