// `icrl artifact list|download`, `icrl run fork` and `icrl experiment|dataset archive` as child
// processes against a real server, with the test as the worker that stores a run's checkpoints.
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  CreateExperimentDocument,
  CreateRunDocument,
  DatasetsDocument,
  ExperimentsDocument,
  ImportDatasetDocument,
  RunDetailDocument,
  type IcrlClient,
} from "../../client-sdk/src/index.js";
import { ADMIN_KEY, startTestServer, type TestServer } from "../support/server.js";
import { writeQaJsonl } from "../support/fixtures.js";
import { claimRun, cliEnv, newWorker, runCli } from "./helpers.js";

// Each CLI call is a Node process (~1.5 s of CPU); allow for a busy 2-core machine.
vi.setConfig({ testTimeout: 240_000 });

let t: TestServer;
let env: NodeJS.ProcessEnv;
let worker: IcrlClient;
let experimentId: string;
let datasetId: string;
let dir: string;
/** A run whose worker stored ADAPTER and CHECKPOINT artifacts at steps 2 and 4. */
let trained: { runId: string; adapters: Record<number, { id: string; bytes: Buffer }> };

const config = (extra: Record<string, unknown> = {}) => ({
  model: { path: "/models/tiny.gguf" },
  dataset: { id: datasetId },
  grpo: { lr: 0.001, groupSize: 4 },
  maxSteps: 8,
  ...extra,
});

async function upload(jobId: string, kind: string, step: number, bytes: Buffer): Promise<string> {
  const query = new URLSearchParams({ kind, name: `${kind.toLowerCase()}-step-${step}.gguf`, step: String(step), jobId });
  const res = await worker.http(`/artifacts?${query}`, { method: "POST", body: new Uint8Array(bytes) });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

beforeAll(async () => {
  t = await startTestServer();
  env = cliEnv(t.server.url, ADMIN_KEY);
  dir = await mkdtemp(path.join(os.tmpdir(), "icrl-cli-artifacts-"));
  await writeQaJsonl(path.join(dir, "qa.jsonl"), 4);
  datasetId = (await t.admin.mutate(ImportDatasetDocument, { input: { name: "qa", kind: "QA", format: "JSONL", path: path.join(dir, "qa.jsonl") } }))
    .importDataset.id;
  experimentId = (await t.admin.mutate(CreateExperimentDocument, { name: "cli-artifacts" })).createExperiment.id;
  worker = await newWorker(t, "cli-artifact-worker");

  const runId = (await t.admin.mutate(CreateRunDocument, { experimentId, name: "trained", config: config() })).createRun.id;
  const jobId = await claimRun(worker, runId);
  const adapters: Record<number, { id: string; bytes: Buffer }> = {};
  for (const step of [2, 4]) {
    // Step 4's adapter is a few MB, so its download draws a progress bar.
    const bytes = step === 4 ? randomBytes(3 * 1024 * 1024) : Buffer.from(`adapter ${step}`);
    adapters[step] = { id: await upload(jobId, "ADAPTER", step, bytes), bytes };
    await upload(jobId, "CHECKPOINT", step, Buffer.from(`checkpoint ${step}`));
  }
  trained = { runId, adapters };
});

afterAll(async () => {
  await t?.close();
});

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("artifact download", () => {
  it("downloads by id into a directory, and a run's checkpoint by --run and --step, with a progress bar", async () => {
    const out = await mkdtemp(path.join(dir, "by-id-"));
    const byId = await runCli(["artifact", "download", trained.adapters[4].id, "-o", out], env);
    expect(byId.code, byId.stderr).toBe(0);
    const file = path.join(out, "adapter-step-4.gguf");
    expect(byId.stdout).toBe(`${file}\n`);
    expect(sha256(await readFile(file))).toBe(sha256(trained.adapters[4].bytes));
    // Piped, the bar prints a line per quarter, ending at 100% with the size.
    expect(byId.stderr).toMatch(/downloading \[█+\] 100% 3\.0 MB \/ 3\.0 MB/);
    expect(readdirSync(out)).toEqual(["adapter-step-4.gguf"]); // no .part left behind

    const target = path.join(dir, "early.gguf");
    const byStep = await runCli(["artifact", "download", "--run", trained.runId, "--step", "2", "-o", target, "--json"], env);
    expect(byStep.code, byStep.stderr).toBe(0);
    expect(JSON.parse(byStep.stdout)).toMatchObject({ path: target, id: trained.adapters[2].id, kind: "ADAPTER", step: 2 });
    expect(await readFile(target, "utf8")).toBe("adapter 2");

    // The latest checkpoint of another kind, into the working directory under its own name.
    const cwd = await mkdtemp(path.join(dir, "cwd-"));
    const latest = await runCli(["artifact", "download", "--run", trained.runId, "--kind", "checkpoint", "--no-progress"], env, { cwd });
    expect(latest.code, latest.stderr).toBe(0);
    expect(latest.stderr).toBe("");
    expect(await readFile(path.join(cwd, "checkpoint-step-4.gguf"), "utf8")).toBe("checkpoint 4");

    // An existing file is kept unless --force.
    const again = await runCli(["artifact", "download", "--run", trained.runId, "--step", "2", "-o", target], env);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`${target} already exists; add --force to replace it`);
    await writeFile(target, "old");
    const forced = await runCli(["artifact", "download", "--run", trained.runId, "--step", "2", "-o", target, "--force"], env);
    expect(forced.code, forced.stderr).toBe(0);
    expect(await readFile(target, "utf8")).toBe("adapter 2");
  });

  it("lists a run's artifacts", async () => {
    const listed = await runCli(["artifact", "list", "--run", trained.runId, "--kind", "adapter", "--json"], env);
    expect(listed.code, listed.stderr).toBe(0);
    const rows = JSON.parse(listed.stdout) as { id: string; step: number }[];
    expect(rows.map((r) => [r.id, r.step]).sort()).toEqual(
      [
        [trained.adapters[2].id, 2],
        [trained.adapters[4].id, 4],
      ].sort(),
    );
  });

  it("says what is wrong with a clear message and exit code", async () => {
    const unknown = await runCli(["artifact", "download", "00000000-0000-4000-8000-000000000000"], env, { cwd: dir });
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain("No artifact with id 00000000-0000-4000-8000-000000000000 (see `icrl artifact list`)");
    const notId = await runCli(["artifact", "download", "adapter-step-4"], env, { cwd: dir });
    expect(notId.code).toBe(2);
    expect(notId.stderr).toContain('"adapter-step-4" is not an artifact id');
    const noStep = await runCli(["artifact", "download", "--run", trained.runId, "--step", "3"], env, { cwd: dir });
    expect(noStep.code).toBe(2);
    expect(noStep.stderr).toContain("has no adapter checkpoint at step 3; its adapter checkpoints are at steps 2, 4");
    const unknownRun = await runCli(["artifact", "download", "--run", "00000000-0000-4000-8000-000000000000"], env, { cwd: dir });
    expect(unknownRun.code).toBe(3);
    const neither = await runCli(["artifact", "download"], env, { cwd: dir });
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain("Which artifact? Give its id");
    const badKind = await runCli(["artifact", "download", "--run", trained.runId, "--kind", "weights"], env, { cwd: dir });
    expect(badKind.code).toBe(2);
    expect(badKind.stderr).toContain("must be one of adapter, checkpoint, report, dataset");
    expect(existsSync(path.join(dir, "adapter-step-4.gguf"))).toBe(false);
  });
});

describe("run fork", () => {
  it("continues from the run's checkpoint in the same experiment, with the config changed by --set", async () => {
    const res = await runCli(["run", "fork", trained.runId, "--set", "grpo.lr=0.01", "--set", "maxSteps=12", "--step", "3", "--name", "lr-up"], env);
    expect(res.code, res.stderr).toBe(0);
    const forkId = res.stdout.trim();
    expect(res.stderr).toContain(`Created run lr-up in experiment cli-artifacts (from step 2 of ${trained.runId})`);
    const fork = (await t.admin.query(RunDetailDocument, { id: forkId })).run!;
    const parent = (await t.admin.query(RunDetailDocument, { id: trained.runId })).run!;
    expect(fork).toMatchObject({ name: "lr-up", forkStep: 2, experiment: { id: experimentId }, parentRun: { id: trained.runId }, status: "QUEUED" });
    const { grpo, maxSteps, ...rest } = fork.config as Record<string, any>;
    const { grpo: parentGrpo, maxSteps: _parentMax, ...parentRest } = parent.config as Record<string, any>;
    expect(rest).toEqual(parentRest);
    expect(grpo).toEqual({ ...parentGrpo, lr: 0.01 });
    expect(maxSteps).toBe(12);
  });

  it("--fresh starts the same config from step 0; without a checkpoint it says to use --fresh", async () => {
    const untrained = (await t.admin.mutate(CreateRunDocument, { experimentId, name: "untrained", config: config() })).createRun.id;
    const refused = await runCli(["run", "fork", untrained], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`Run ${untrained} has no checkpoint to continue from yet; add --fresh`);

    const fresh = await runCli(["run", "fork", untrained, "--fresh", "--set", "model.path=/models/other.gguf"], env);
    expect(fresh.code, fresh.stderr).toBe(0);
    const run = (await t.admin.query(RunDetailDocument, { id: fresh.stdout.trim() })).run!;
    expect(run).toMatchObject({
      name: "untrained-fork",
      forkStep: null,
      experiment: { id: experimentId },
      config: { model: { path: "/models/other.gguf" } },
    });
  });

  it("reports a patch the fork cannot take, a bad --set and an unknown run", async () => {
    const model = await runCli(["run", "fork", trained.runId, "--set", "model.path=/models/other.gguf"], env);
    expect(model.code).toBe(2);
    expect(model.stderr).toContain("a fork keeps its parent's model");
    const invalid = await runCli(["run", "fork", trained.runId, "--set", "grpo.lr=fast"], env);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain("grpo.lr");
    const noValue = await runCli(["run", "fork", trained.runId, "--set", "grpo.lr"], env);
    expect(noValue.code).toBe(2);
    expect(noValue.stderr).toContain("--set needs path=value");
    const unknown = await runCli(["run", "fork", "00000000-0000-4000-8000-000000000000"], env);
    expect(unknown.code).toBe(3);
  });
});

describe("archive", () => {
  it("archives and unarchives experiments and datasets by id or name", async () => {
    const listed = async () =>
      (await t.admin.query(ExperimentsDocument, { first: 100, includeArchived: false })).experiments.nodes.map((e) => e.name);
    const archived = await runCli(["experiment", "archive", "cli-artifacts"], env);
    expect(archived.code, archived.stderr).toBe(0);
    expect(archived.stdout).toBe(`${experimentId} cli-artifacts archived\n`);
    expect(await listed()).not.toContain("cli-artifacts");
    const shown = await runCli(["experiment", "list", "--all"], env);
    expect(shown.stdout).toContain("cli-artifacts (archived)");
    const undone = await runCli(["experiment", "archive", experimentId, "--undo"], env);
    expect(undone.code, undone.stderr).toBe(0);
    expect(await listed()).toContain("cli-artifacts");

    const ds = await runCli(["dataset", "archive", "qa", "--json"], env);
    expect(ds.code, ds.stderr).toBe(0);
    expect(JSON.parse(ds.stdout)).toMatchObject({ id: datasetId, archived: true });
    expect((await t.admin.query(DatasetsDocument, { first: 100 })).datasets.nodes.map((d) => d.id)).not.toContain(datasetId);
    expect((await runCli(["dataset", "list", "--all"], env)).stdout).toContain("qa (archived)");
    expect((await runCli(["dataset", "archive", datasetId, "--undo"], env)).code).toBe(0);
    expect((await t.admin.query(DatasetsDocument, { first: 100 })).datasets.nodes.map((d) => d.id)).toContain(datasetId);

    const noExperiment = await runCli(["experiment", "archive", "nope"], env);
    expect(noExperiment.code).toBe(3);
    expect(noExperiment.stderr).toContain('No experiment named "nope"');
    const noDataset = await runCli(["dataset", "archive", "nope"], env);
    expect(noDataset.code).toBe(3);
    expect(noDataset.stderr).toContain('No dataset named "nope"');
  });
});
