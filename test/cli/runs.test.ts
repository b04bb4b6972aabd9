// `icrl run watch|compare` and `icrl rollouts export` as child processes, with the test acting as
// the worker that moves the runs along.
import { mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  CompleteJobDocument,
  CreateExperimentDocument,
  CreateRunDocument,
  FailJobDocument,
  ImportDatasetDocument,
  LogMetricsDocument,
  ReportRolloutsDocument,
  ReportRunProgressDocument,
  type IcrlClient,
} from "../../client-sdk/src/index.js";
import { ADMIN_KEY, startTestServer, type TestServer } from "../support/server.js";
import { makeRollout, writeQaJsonl } from "../support/fixtures.js";
import { claimRun, cliEnv, jsonLines, newWorker, runCli, spawnCli } from "./helpers.js";

// Each CLI call is a Node process (~1.5 s of CPU); a test making several on a busy 2-core machine
// needs more than the default timeout.
vi.setConfig({ testTimeout: 240_000 });

let t: TestServer;
let env: NodeJS.ProcessEnv;
let worker: IcrlClient;
let experimentId: string;
let datasetId: string;
let dir: string;

beforeAll(async () => {
  t = await startTestServer();
  env = cliEnv(t.server.url, ADMIN_KEY);
  dir = await mkdtemp(path.join(os.tmpdir(), "icrl-cli-runs-"));
  await writeQaJsonl(path.join(dir, "qa.jsonl"), 6);
  datasetId = (await t.admin.mutate(ImportDatasetDocument, { input: { name: "qa", kind: "QA", format: "JSONL", path: path.join(dir, "qa.jsonl") } }))
    .importDataset.id;
  experimentId = (await t.admin.mutate(CreateExperimentDocument, { name: "cli-runs" })).createExperiment.id;
  worker = await newWorker(t, "cli-test-worker");
});

afterAll(async () => {
  await t?.close();
});

/** A run whose job the test worker holds at once. */
async function startedRun(name: string, extra: Record<string, unknown> = {}): Promise<{ runId: string; jobId: string }> {
  const config = { model: { path: "models/tiny.gguf" }, dataset: { id: datasetId }, maxSteps: 4, ...extra };
  const runId = (await t.admin.mutate(CreateRunDocument, { experimentId, name, config })).createRun.id;
  return { runId, jobId: await claimRun(worker, runId) };
}

const metricsAt = (step: number, reward: number) => [
  { key: "reward/mean", step, value: reward },
  { key: "accuracy/mean", step, value: reward / 2 },
  { key: "tools/valid_calls_per_rollout", step, value: 1 },
];

describe("run watch", () => {
  it("--json prints live run, metric and rollout events and exits 0 when the run succeeds", async () => {
    const { runId, jobId } = await startedRun("watched");
    const child = spawnCli(["run", "watch", runId, "--json"], env);
    const exited = new Promise<number | null>((r) => child.on("close", r));
    const out = jsonLines(child);
    await out.waitFor((l) => l.type === "snapshot");

    for (const step of [1, 2]) {
      await worker.mutate(ReportRunProgressDocument, { jobId, progress: { step, stage: 0, shots: 3 } });
      await worker.mutate(LogMetricsDocument, { jobId, points: metricsAt(step, step / 4) });
      await worker.mutate(ReportRolloutsDocument, { jobId, rollouts: [makeRollout(step, 0, 0, 200), makeRollout(step, 0, 1, 200)] });
    }
    await out.waitFor((l) => l.type === "rollout" && l.rollout.step === 2);
    expect(child.exitCode).toBeNull(); // still following: the run is not finished
    await worker.mutate(CompleteJobDocument, { jobId });
    expect(await exited).toBe(0);

    const lines = out.lines as any[];
    expect(lines[0]).toMatchObject({ type: "snapshot", run: { id: runId, status: "RUNNING" } });
    expect(lines[lines.length - 1]).toEqual({ type: "end", status: "SUCCEEDED" });
    const points = lines.filter((l) => l.type === "metrics").flatMap((l) => l.points);
    expect(points.map((p: any) => `${p.key}@${p.step}`).sort()).toEqual([1, 2].flatMap((s) => metricsAt(s, 0).map((p) => `${p.key}@${s}`)).sort());
    const rollouts = lines.filter((l) => l.type === "rollout").map((l) => `${l.rollout.step}/${l.rollout.sampleIndex}`);
    expect(rollouts).toEqual(["1/0", "1/1", "2/0", "2/1"]);
    const runEvents = lines.filter((l) => l.type === "run");
    expect(runEvents.map((l) => l.run.step)).toContain(2);
    expect(runEvents[runEvents.length - 1].run.status).toBe("SUCCEEDED");
  });

  it("exits 1 when the run fails, with the final state on stdout", async () => {
    const { runId, jobId } = await startedRun("doomed");
    await worker.mutate(FailJobDocument, { jobId, error: "out of memory" });
    const res = await runCli(["run", "watch", runId], env);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain("FAILED");
    expect(res.stdout).toContain("error: out of memory");
  });
});

describe("run watch on a finished run", () => {
  let runId: string;
  const steps = [1, 2, 3, 4, 5, 6];

  beforeAll(async () => {
    const started = await startedRun("finished");
    runId = started.runId;
    for (const step of steps) {
      await worker.mutate(ReportRunProgressDocument, { jobId: started.jobId, progress: { step, stage: 0, shots: 3 } });
      await worker.mutate(LogMetricsDocument, { jobId: started.jobId, points: metricsAt(step, step / 8) });
      await worker.mutate(ReportRolloutsDocument, { jobId: started.jobId, rollouts: [makeRollout(step, 0, 0, 200), makeRollout(step, 0, 1, 200)] });
    }
    await worker.mutate(CompleteJobDocument, { jobId: started.jobId });
  });

  it("shows the summary, sparklines from the stored history and the last rollouts, and exits", async () => {
    const res = await runCli(["run", "watch", runId], env);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("SUCCEEDED");
    expect(res.stdout).not.toContain("waiting for rollouts");
    // reward/mean rose 1/8 .. 6/8 over six steps: one sparkline character per point, lowest to highest.
    expect(res.stdout).toMatch(/reward\/mean +▁\S{4}█ +0\.75/);
    expect(res.stdout).toMatch(/accuracy\/mean +▁\S{4}█ +0\.375/);
    expect(res.stdout).toContain("Latest rollouts (12 seen)");
    // The newest three, newest first.
    const shown = [...res.stdout.matchAll(/step (\d) · \S+ · g0\/s(\d)/g)].map((m) => `${m[1]}/${m[2]}`);
    expect(shown).toEqual(["6/1", "6/0", "5/1"]);
  });

  it("--json --from-start replays every metric point and rollout once, in cursor order, then ends", async () => {
    const res = await runCli(["run", "watch", runId, "--json", "--from-start"], env);
    expect(res.code).toBe(0);
    const lines = res.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ type: "snapshot", run: { id: runId, status: "SUCCEEDED" } });
    expect(lines.at(-1)).toEqual({ type: "end", status: "SUCCEEDED" });
    const points = lines.filter((l) => l.type === "metrics").flatMap((l) => l.points);
    expect(points.map((p: any) => `${p.key}@${p.step}`).sort()).toEqual(steps.flatMap((s) => metricsAt(s, 0).map((p) => `${p.key}@${s}`)).sort());
    const rollouts = lines.filter((l) => l.type === "rollout");
    expect(rollouts.map((l) => `${l.rollout.step}/${l.rollout.sampleIndex}`)).toEqual(steps.flatMap((s) => [`${s}/0`, `${s}/1`]));
    const cursors = rollouts.map((l) => BigInt(l.cursor));
    expect(cursors.every((c, i) => i === 0 || c > cursors[i - 1])).toBe(true);
  });

  it("exits 1 for a cancelled run, with its final state", async () => {
    const config = { model: { path: "models/tiny.gguf" }, dataset: { id: datasetId }, maxSteps: 4 };
    const cancelled = (await t.admin.mutate(CreateRunDocument, { experimentId, name: "cancelled-while-queued", config })).createRun.id;
    expect((await runCli(["run", "cancel", cancelled], env)).code).toBe(0);
    const res = await runCli(["run", "watch", cancelled], env);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain("CANCELLED");
    expect(res.stdout).toContain("none: the run ended without any");
  });
});

describe("run compare and rollouts export", () => {
  let runA: string;
  let runB: string;

  beforeAll(async () => {
    const a = await startedRun("lr-high", { grpo: { lr: 1e-4 } });
    runA = a.runId;
    // 600 rollouts: more than two pages of the export, with questions the dataset knows.
    for (let step = 0; step < 3; step++) {
      const rollouts = Array.from({ length: 200 }, (_, i) => ({ ...makeRollout(step, Math.floor(i / 8), i % 8, 300), questionId: `item-${i % 6}` }));
      await worker.mutate(ReportRolloutsDocument, { jobId: a.jobId, rollouts });
      await worker.mutate(LogMetricsDocument, {
        jobId: a.jobId,
        points: [...metricsAt(step, 0.2 + step / 10), { key: "loss", step, value: 1 / (step + 1) }],
      });
    }
    await worker.mutate(CompleteJobDocument, { jobId: a.jobId });
    const b = await startedRun("lr-low", { grpo: { lr: 5e-5 }, lora: { rank: 8 } });
    runB = b.runId;
    for (let step = 0; step < 2; step++) await worker.mutate(LogMetricsDocument, { jobId: b.jobId, points: metricsAt(step, 0.1) });
    await worker.mutate(CompleteJobDocument, { jobId: b.jobId });
  });

  it("run compare lists only the config keys that differ and the latest value of each metric", async () => {
    const [asJson, asTable, tooFew] = [
      await runCli(["run", "compare", runA, runB, "--json"], env),
      await runCli(["run", "compare", runA, runB], env),
      await runCli(["run", "compare", runA], env),
    ];
    expect(asJson.code).toBe(0);
    const cmp = JSON.parse(asJson.stdout);
    expect(cmp.runs.map((r: any) => r.name)).toEqual(["lr-high", "lr-low"]);
    expect(cmp.config).toEqual({ "grpo.lr": [1e-4, 5e-5], "lora.rank": [16, 8] });
    expect(cmp.metrics["reward/mean"]).toEqual([0.4, 0.1]);
    expect(cmp.metrics.loss).toEqual([1 / 3, null]);

    expect(asTable.code).toBe(0);
    expect(asTable.stdout).toMatch(/^grpo\.lr +0\.0001 +0\.00005$/m);
    expect(asTable.stdout).toMatch(/^reward\/mean +0\.4 +0\.1$/m);
    expect(asTable.stdout).toMatch(/^loss +0\.3333 +-$/m);
    expect(asTable.stdout).not.toContain("model.path");
    expect(tooFew.code).toBe(2);
  });

  it("rollouts export streams every rollout as jsonl, and as verl dump lines with the dataset's questions", async () => {
    const jsonl = await runCli(["rollouts", "export", runA, "--format", "jsonl"], env);
    expect(jsonl.code).toBe(0);
    const records = jsonl.stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(records).toHaveLength(600);
    expect(new Set(records.map((r) => `${r.step}/${r.groupIndex}/${r.sampleIndex}`)).size).toBe(600);
    const cursors = records.map((r) => BigInt(r.cursor));
    expect(cursors.every((c, i) => i === 0 || c > cursors[i - 1])).toBe(true);
    expect(records[0]).toMatchObject({ runId: runA, segments: expect.any(Array), rewardComponents: expect.any(Object) });

    const file = path.join(dir, "dump.jsonl");
    const verl = await runCli(["rollouts", "export", runA, "--format", "verl", "-o", file], env);
    expect(verl.code).toBe(0);
    expect(verl.stderr).toContain(`Wrote 600 rollouts to ${file}`);
    const lines = (await readFile(file, "utf8"))
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(600);
    const first = records[0];
    const line = lines[0];
    const item = Number(first.questionId.slice("item-".length));
    expect(line).toMatchObject({
      input: `What is item number ${item}?`,
      gts: [`answer ${item}`, `${item}`],
      score: first.reward,
      step: first.step,
      question_id: first.questionId,
      accuracy: first.rewardComponents.accuracy,
      format: first.rewardComponents.format,
    });
    expect(line.output).toBe(first.segments.map((s: any) => s.text).join(""));

    const unknown = await runCli(["rollouts", "export", "00000000-0000-4000-8000-000000000000"], env);
    expect(unknown.code).toBe(3);
  });
});
