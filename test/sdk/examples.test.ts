// The README's SDK examples, executed against a real server: the quick start exactly as README runs
// it on a fresh clone (`icrl model tiny --context 8192 -o .icrl/models/tiny.gguf`, `icrl worker`, the script with no
// settings) with a real worker training its run; then with the test as the worker, so rollouts are
// checked as they arrive live, once from a fresh directory and once from an empty directory where
// @icrl-lab/client was installed alone from its `npm pack` tarball (offline: its five dependencies
// come as tarballs packed from this checkout); the script logger; and a logging script that never
// calls finish(), which must still deliver everything and finish its run on exit.
import { execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { copyFile, mkdtemp, readdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  ClaimJobDocument,
  CompleteJobDocument,
  CreateApiKeyDocument,
  ImportDatasetDocument,
  MetricPointsDocument,
  RegisterWorkerDocument,
  ReportRolloutsDocument,
  ReportRunProgressDocument,
  RolloutsDocument,
  RunDetailDocument,
  RunsDocument,
  type IcrlClient,
  type RolloutInput,
} from "../../client-sdk/src/index.js";
import { PROJECT_ROOT } from "../../server/main.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { writeQaJsonl } from "../support/fixtures.js";
import { cliEnv, runCli, spawnCli } from "../cli/helpers.js";

// Each example is a Node process compiling TypeScript on the fly; allow for a busy machine.
vi.setConfig({ testTimeout: 180_000 });

let t: TestServer;
let memberKey: string;
let registrationKey: string;
let datasetId: string;
let dir: string;

beforeAll(async () => {
  t = await startTestServer();
  dir = await mkdtemp(path.join(os.tmpdir(), "icrl-examples-"));
  await writeQaJsonl(path.join(dir, "qa.jsonl"), 4);
  datasetId = (await t.admin.mutate(ImportDatasetDocument, { input: { name: "qa", kind: "QA", format: "JSONL", path: path.join(dir, "qa.jsonl") } }))
    .importDataset.id;
  memberKey = (await t.admin.mutate(CreateApiKeyDocument, { name: "member", role: "MEMBER" })).createApiKey.secret;
  registrationKey = (await t.admin.mutate(CreateApiKeyDocument, { name: "workers", role: "WORKER" })).createApiKey.secret;
});

afterAll(async () => {
  await t?.close();
});

// tsx by absolute path: the packed-SDK directory has nothing but the SDK and its dependencies.
const TSX = pathToFileURL(path.join(PROJECT_ROOT, "node_modules/tsx/dist/loader.mjs")).href;

const QUICKSTART = path.join(PROJECT_ROOT, "examples/sdk-quickstart.ts");

function runScript(file: string, env: Record<string, string>, cwd = PROJECT_ROOT) {
  // The quick start's own defaults: nothing of the developer's environment chooses its model or corpus.
  const { ICRL_MODEL: _model, ICRL_CORPUS: _corpus, ...inherited } = process.env;
  const child = spawn(process.execPath, ["--import", TSX, file], {
    cwd,
    env: { ...inherited, ICRL_SERVER: t.server.url, ICRL_API_KEY: memberKey, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  // A script that hangs is killed with its output kept, so the failure shows where it stopped.
  const timer = setTimeout(() => child.kill("SIGKILL"), 150_000);
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr: `${stderr}\n--- stdout ---\n${stdout}` });
    }),
  );
  return { child, done, output: () => stdout };
}

async function newWorker(): Promise<IcrlClient> {
  const token = (await t.client(registrationKey).mutate(RegisterWorkerDocument, { name: "example-worker", capabilities: { backend: "cpu" } }))
    .registerWorker.token;
  return t.client(token);
}

function trajectory(step: number, questionId: string, sample: number): RolloutInput {
  return {
    step,
    stage: step - 1,
    shots: step === 1 ? 2 : 0,
    groupIndex: Number(questionId.slice(1)) - 1,
    sampleIndex: sample,
    questionId,
    segments: [
      { kind: "MODEL", text: "<think>I should search.</think><search>" },
      { kind: "TOOL_CALL", text: `facts about ${questionId}` },
      { kind: "TOOL_RESULT", text: "<information>Doc 1(Title: X) ...</information>" },
      { kind: "MODEL", text: `<answer>answer-${questionId}-${sample}</answer>` },
    ],
    reward: sample === 0 ? 1 : 0.2,
    rewardComponents: { accuracy: sample === 0 ? 1 : 0, format: 1 },
    promptTokens: 100,
    responseTokens: 30,
    turns: 2,
    toolCallsValid: 1,
    toolCallsInvalid: 0,
    finishReason: "answer",
  };
}

const SDK_DEPENDENCIES = ["@graphql-typed-document-node/core", "graphql", "graphql-ws", "ws", "zod"];

/** Packs the SDK and its dependencies and installs them, offline, into a fresh empty project. */
async function installPackedSdk(): Promise<string> {
  const run = promisify(execFile);
  const tarballs = await mkdtemp(path.join(os.tmpdir(), "icrl-sdk-tgz-"));
  const project = await mkdtemp(path.join(os.tmpdir(), "icrl-sdk-alone-"));
  // prepack builds dist/ first, so the tarball is what this checkout's sources compile to.
  await run("npm", ["pack", "--silent", "--pack-destination", tarballs], { cwd: path.join(PROJECT_ROOT, "client-sdk") });
  for (const dep of SDK_DEPENDENCIES) {
    await run("npm", ["pack", "--silent", "--ignore-scripts", "--pack-destination", tarballs, path.join(PROJECT_ROOT, "node_modules", dep)]);
  }
  await writeFile(path.join(project, "package.json"), JSON.stringify({ name: "sdk-alone", private: true, type: "module" }));
  const files = (await readdir(tarballs)).map((f) => path.join(tarballs, f));
  await run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", ...files], { cwd: project });
  await copyFile(path.join(PROJECT_ROOT, "examples/sdk-quickstart.ts"), path.join(project, "sdk-quickstart.ts"));
  return project;
}

/** README's first step of the quick start, run by the real CLI in `cwd` (a fresh clone has no model). */
async function createDefaultModel(cwd: string): Promise<string> {
  const res = await runCli(["model", "tiny", "--context", "8192", "-o", ".icrl/models/tiny.gguf"], cliEnv(t.server.url, memberKey), { cwd });
  expect(res.code, res.stderr).toBe(0);
  return path.join(cwd, ".icrl/models/tiny.gguf");
}

async function runQuickstart(script: ReturnType<typeof runScript>, model: string) {
  const worker = await newWorker();
  let claimed = null;
  for (let i = 0; !claimed && i < 600 && script.child.exitCode === null; i++) {
    claimed = (await worker.mutate(ClaimJobDocument, { kinds: ["TRAIN"] })).claimJob;
    if (!claimed) await new Promise((r) => setTimeout(r, 200));
  }
  expect(claimed, (await Promise.race([script.done, Promise.resolve(null)]))?.stderr).toBeTruthy();
  const jobId = claimed!.job.id;
  const context = claimed!.context as {
    run: { config: { model: { path: string }; tools: { search: { corpus: string } } } };
    dataset: { itemCount: number };
  };
  expect(context.dataset.itemCount).toBe(3); // the example's own dataset
  // The files a worker on this machine reads: README's model, and the corpus the script writes.
  expect(context.run.config.model.path).toBe(model);
  expect(readFileSync(context.run.config.tools.search.corpus, "utf8")).toContain("Paris is the capital");

  for (const step of [1, 2]) {
    await worker.mutate(ReportRunProgressDocument, { jobId, progress: { step, stage: step - 1, shots: step === 1 ? 2 : 0 } });
    await worker.mutate(ReportRolloutsDocument, {
      jobId,
      rollouts: ["q1", "q2", "q3"].flatMap((q) => [trajectory(step, q, 0), trajectory(step, q, 1)]),
    });
    if (step === 1) {
      // Live: the first step's rollouts are printed while the run is still going.
      for (let i = 0; i < 600 && !script.output().includes("step 1 · q3 · sample 1"); i++) await new Promise((r) => setTimeout(r, 100));
      expect(script.output()).toContain("step 1 · q3 · sample 1");
    }
  }
  await worker.mutate(CompleteJobDocument, { jobId });

  const { code, stdout, stderr } = await script.done;
  expect(code, stderr).toBe(0);
  expect(stdout).toMatch(/^run [0-9a-f-]{36} is QUEUED; waiting for a worker/m);
  for (const step of [1, 2]) {
    for (const q of ["q1", "q2", "q3"]) {
      expect(stdout).toContain(`step ${step} · ${q} · sample 0 · reward 1.00 · tool calls: facts about ${q} · answer: answer-${q}-0`);
      expect(stdout).toContain(`step ${step} · ${q} · sample 1 · reward 0.20`);
    }
  }
  expect(stdout).toMatch(/finished: SUCCEEDED, 12 rollouts$/m);
}

describe("examples/sdk-quickstart.ts", () => {
  it("on a fresh clone, as README runs it: `icrl model tiny`, a real `icrl worker`, the script with its defaults", async () => {
    const clone = await mkdtemp(path.join(os.tmpdir(), "icrl-fresh-"));
    await createDefaultModel(clone);
    const worker = spawnCli(
      ["worker", "--token", registrationKey, "--max-jobs", "1", "--threads", "1", "--gpu", "cpu"],
      cliEnv(t.server.url, ""),
      clone,
    );
    let workerLog = "";
    worker.stdout!.on("data", (d) => (workerLog += d));
    worker.stderr!.on("data", (d) => (workerLog += d));
    try {
      const { code, stdout, stderr } = await runScript(QUICKSTART, {}, clone).done;
      expect(code, `${stderr}\n--- worker ---\n${workerLog.slice(-4000)}`).toBe(0);
      expect(stdout).toMatch(/^run [0-9a-f-]{36} finished: SUCCEEDED, 12 rollouts$/m);
      expect(stdout).toMatch(/^step 2 · q3 · sample 1 · reward \d\.\d\d · tool calls: /m);
    } finally {
      worker.kill("SIGKILL");
    }
  });

  it("without README's model it says how to create it and exits 2, before creating anything", async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), "icrl-fresh-"));
    const before = (await t.admin.query(RunsDocument, { first: 0 })).runs.totalCount;
    const { code, stderr } = await runScript(QUICKSTART, {}, empty).done;
    expect(code, stderr).toBe(2);
    expect(stderr.split("\n")[0]).toBe(
      "error: no model at .icrl/models/tiny.gguf: create it with `icrl model tiny --context 8192 -o .icrl/models/tiny.gguf`, or set ICRL_MODEL to a GGUF file",
    );
    expect((await t.admin.query(RunsDocument, { first: 0 })).runs.totalCount).toBe(before);
  });

  it("creates an experiment, imports a dataset, starts a run and prints its rollouts live until it succeeds", async () => {
    const clone = await mkdtemp(path.join(os.tmpdir(), "icrl-fresh-"));
    const model = await createDefaultModel(clone);
    await runQuickstart(runScript(QUICKSTART, {}, clone), model);
  });

  it("runs the same from an empty directory with only the packed @icrl-lab/client installed", async () => {
    const project = await installPackedSdk();
    // Nothing of the product comes along: exactly the SDK and its five dependencies.
    const installed = (await readdir(path.join(project, "node_modules"), { recursive: true }))
      .filter((p) => !p.includes(path.sep) || (p.startsWith("@") && p.split(path.sep).length === 2))
      .filter((p) => !p.startsWith(".") && !/^@[^/]+$/.test(p));
    expect(installed.sort()).toEqual(["@icrl-lab/client", ...SDK_DEPENDENCIES].sort());
    const model = await createDefaultModel(project);
    await runQuickstart(runScript(path.join(project, "sdk-quickstart.ts"), {}, project), model);
  });
});

describe("script logger", () => {
  it("examples/sdk-logger.ts logs a whole run and finishes it", async () => {
    const { code, stdout, stderr } = await runScript("examples/sdk-logger.ts", { ICRL_WORKER_KEY: registrationKey, ICRL_DATASET_ID: datasetId }).done;
    expect(code, stderr).toBe(0);
    const runId = /logging to run ([0-9a-f-]{36})/.exec(stdout)![1];
    expect(stdout).toContain(`run ${runId} SUCCEEDED`);
    const run = (await t.admin.query(RunDetailDocument, { id: runId })).run!;
    expect(run).toMatchObject({ status: "SUCCEEDED", step: 19, experiment: { name: "my-own-trainer" } });
    expect(run.metricKeys.sort()).toEqual(["accuracy/mean", "loss", "reward/mean"]);
    expect((await t.admin.query(RolloutsDocument, { runId, first: 0 })).rollouts.totalCount).toBe(20);
  });

  it("a script that never calls finish() still delivers everything and finishes its run on exit", async () => {
    const file = path.join(dir, "forgetful.mts");
    const sdk = pathToFileURL(path.join(PROJECT_ROOT, "client-sdk/src/index.ts")).href;
    await writeFile(
      file,
      `import { createClient, startLoggedRun } from ${JSON.stringify(sdk)};
const client = createClient({ url: process.env.ICRL_SERVER!, token: process.env.ICRL_API_KEY! });
const run = await startLoggedRun({ client, registrationKey: process.env.ICRL_WORKER_KEY, experiment: "forgetful", name: "no-finish",
  config: { model: { path: "m.gguf" }, dataset: { id: process.env.ICRL_DATASET_ID! } } });
for (let step = 0; step < 300; step++) run.log({ loss: 1 / (step + 1) }, step);
console.log(run.runId);
`,
    );
    const { code, stdout, stderr } = await runScript(file, { ICRL_WORKER_KEY: registrationKey, ICRL_DATASET_ID: datasetId }).done;
    expect(code, stderr).toBe(0);
    const runId = stdout.trim();
    const run = (await t.admin.query(RunDetailDocument, { id: runId })).run!;
    expect(run).toMatchObject({ status: "SUCCEEDED", step: 299 });
    const points = (await t.admin.query(MetricPointsDocument, { runId, first: 1000 })).metricPoints.nodes;
    expect(points.map((p) => p.step)).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });
});
