// Create, query and paginate every entity through the real server and the typed SDK.
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ArchiveExperimentDocument,
  CreateCurriculumDocument,
  CreateDemonstrationSetDocument,
  CreateExperimentDocument,
  CreateRunDocument,
  CurriculaDocument,
  DatasetDocument,
  ExperimentsDocument,
  IcrlApiError,
  ImportDatasetDocument,
  RunDocument,
  RunsDocument,
  StartBenchmarkRunDocument,
  ForkRunDocument,
  BenchmarkRunsDocument,
  JobsDocument,
  UpdateExperimentDocument,
  UpdateCurriculumDocument,
  DemonstrationSetsDocument,
} from "../../client-sdk/src/index.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { writeQaJsonl } from "../support/fixtures.js";

let t: TestServer;
let datasetId: string;
let tmp: string;

const runConfig = (overrides: Record<string, unknown> = {}) => ({
  model: { path: "models/tiny.gguf" },
  dataset: { id: datasetId },
  ...overrides,
});

async function expectCode(p: Promise<unknown>, code: string): Promise<IcrlApiError> {
  const err = await p.then(
    () => null,
    (e) => e,
  );
  expect(err).toBeInstanceOf(IcrlApiError);
  expect((err as IcrlApiError).code).toBe(code);
  return err as IcrlApiError;
}

beforeAll(async () => {
  t = await startTestServer();
  tmp = await mkdtemp(path.join(os.tmpdir(), "icrl-api-"));
  const file = path.join(tmp, "qa.jsonl");
  await writeQaJsonl(file, 120, 4);
  const ds = await t.admin.mutate(ImportDatasetDocument, { input: { name: "synthetic-qa", kind: "QA", format: "JSONL", path: file } });
  datasetId = ds.importDataset.id;
});

afterAll(async () => {
  await t?.close();
});

describe("experiments", () => {
  it("creates, updates, archives and paginates", async () => {
    const names = Array.from({ length: 7 }, (_, i) => `exp-${i}`);
    for (const name of names) await t.admin.mutate(CreateExperimentDocument, { name, description: `about ${name}`, tags: ["a"] });
    const seen: string[] = [];
    let after: string | null | undefined = null;
    let pages = 0;
    for (;;) {
      const page: any = await t.admin.query(ExperimentsDocument, { first: 3, after });
      expect(page.experiments.totalCount).toBe(7);
      seen.push(...page.experiments.nodes.map((n: { name: string }) => n.name));
      pages++;
      if (!page.experiments.pageInfo.hasNextPage) break;
      after = page.experiments.pageInfo.endCursor;
    }
    expect(pages).toBe(3);
    expect(new Set(seen)).toEqual(new Set(names));
    expect(seen.length).toBe(7);

    const first = (await t.admin.query(ExperimentsDocument, { nameContains: "exp-3" })).experiments.nodes[0];
    const updated = await t.admin.mutate(UpdateExperimentDocument, { id: first.id, description: "changed", tags: ["x", "y"] });
    expect(updated.updateExperiment.description).toBe("changed");
    expect(updated.updateExperiment.tags).toEqual(["x", "y"]);
    await t.admin.mutate(ArchiveExperimentDocument, { id: first.id });
    expect((await t.admin.query(ExperimentsDocument, {})).experiments.totalCount).toBe(6);
    expect((await t.admin.query(ExperimentsDocument, { includeArchived: true })).experiments.totalCount).toBe(7);
  });

  it("rejects duplicates, empty names and unknown ids with codes", async () => {
    await t.admin.mutate(CreateExperimentDocument, { name: "dup" });
    await expectCode(t.admin.mutate(CreateExperimentDocument, { name: "dup" }), "CONFLICT");
    const e = await expectCode(t.admin.mutate(CreateExperimentDocument, { name: "  " }), "BAD_USER_INPUT");
    expect(e.fieldErrors[0].path).toBe("name");
    await expectCode(t.admin.mutate(UpdateExperimentDocument, { id: "00000000-0000-0000-0000-000000000000", name: "x" }), "NOT_FOUND");
    await expectCode(t.admin.mutate(UpdateExperimentDocument, { id: "not-a-uuid", name: "x" }), "BAD_USER_INPUT");
  });
});

describe("datasets", () => {
  it("imports JSONL with splits and serves items page by page", async () => {
    const ds = await t.admin.query(DatasetDocument, { id: datasetId, first: 50 });
    expect(ds.dataset!.itemCount).toBe(120);
    expect(ds.dataset!.splits).toEqual(["test", "train"]);
    expect(ds.dataset!.contentHash).toMatch(/^[0-9a-f]{64}$/);
    const test = await t.admin.query(DatasetDocument, { id: datasetId, split: "test", first: 100 });
    expect(test.dataset!.items.totalCount).toBe(30);
    expect(test.dataset!.items.nodes[0]).toMatchObject({ externalId: "item-0", question: "What is item number 0?", golds: ["answer 0", "0"] });
    const page2 = await t.admin.query(DatasetDocument, { id: datasetId, first: 50, after: ds.dataset!.items.pageInfo.endCursor });
    expect(page2.dataset!.items.nodes[0].index).toBe(50);
  });

  it("rejects a malformed file naming the line, and stores nothing", async () => {
    const file = path.join(tmp, "bad.jsonl");
    await writeFile(file, `{"id":1,"question":"ok?","golden_answers":["y"]}\n{"id":2,"question":"no answer"}\n`);
    const err = await expectCode(
      t.admin.mutate(ImportDatasetDocument, { input: { name: "bad", kind: "QA", format: "JSONL", path: file } }),
      "BAD_USER_INPUT",
    );
    expect(err.message).toMatch(/line 2/);
    const ok = await t.admin.mutate(ImportDatasetDocument, { input: { name: "bad", kind: "QA", format: "JSONL", path: path.join(tmp, "qa.jsonl") } });
    expect(ok.importDataset.itemCount).toBe(120);
  });
});

describe("curricula and demonstrations", () => {
  it("creates, validates and updates", async () => {
    const demos = await t.admin.mutate(CreateDemonstrationSetDocument, {
      input: { name: "qa-demos", task: "QA", items: [{ question: "Q?", trajectory: "<think>x</think><search>q</search>" }] },
    });
    const cur = await t.admin.mutate(CreateCurriculumDocument, {
      input: {
        name: "paper",
        stages: [
          { shots: 3, steps: 100 },
          { shots: 2, steps: 100 },
          { shots: 0, steps: 100 },
        ],
        demonstrationSetId: demos.createDemonstrationSet.id,
      },
    });
    expect(cur.createCurriculum.stages.map((s) => s.shots)).toEqual([3, 2, 0]);
    expect(cur.createCurriculum.demonstrationSet?.name).toBe("qa-demos");
    const adaptive = await t.admin.mutate(UpdateCurriculumDocument, {
      id: cur.createCurriculum.id,
      input: { advanceRules: [{ metric: "accuracy/mean", window: 20, threshold: 0.3 }] },
    });
    expect(adaptive.updateCurriculum.advanceRules?.[0]).toMatchObject({ metric: "accuracy/mean", op: ">=" });
    // An explicit null clears a setting; leaving it out keeps it.
    const renamed = await t.admin.mutate(UpdateCurriculumDocument, { id: cur.createCurriculum.id, input: { name: "paper-3-2-0" } });
    expect([renamed.updateCurriculum.advanceRules?.length, renamed.updateCurriculum.demonstrationSet?.name]).toEqual([1, "qa-demos"]);
    const cleared = await t.admin.mutate(UpdateCurriculumDocument, {
      id: cur.createCurriculum.id,
      input: { advanceRules: null, demonstrationSetId: null },
    });
    expect([cleared.updateCurriculum.advanceRules ?? [], cleared.updateCurriculum.demonstrationSet]).toEqual([[], null]);
    const emptyName = await expectCode(
      t.admin.mutate(UpdateCurriculumDocument, { id: cur.createCurriculum.id, input: { name: "  " } }),
      "BAD_USER_INPUT",
    );
    expect(emptyName.fieldErrors).toEqual([{ path: "name", message: "must not be empty" }]);
    await expectCode(t.admin.mutate(CreateCurriculumDocument, { input: { name: "", stages: [{ shots: 0, steps: 1 }] } }), "BAD_USER_INPUT");
    const err = await expectCode(
      t.admin.mutate(CreateCurriculumDocument, { input: { name: "broken", stages: [{ shots: 3 }, { shots: 0 }] } }),
      "BAD_USER_INPUT",
    );
    expect(err.fieldErrors.map((f) => f.path)).toContain("stages.0.steps");
    expect((await t.admin.query(CurriculaDocument, {})).curricula).toHaveLength(1);
    await expectCode(t.admin.mutate(CreateDemonstrationSetDocument, { input: { name: "empty", task: "QA", items: [] } }), "BAD_USER_INPUT");
    expect((await t.admin.query(DemonstrationSetsDocument, {})).demonstrationSets).toHaveLength(1);
  });
});

describe("runs", () => {
  it("creates a run with defaults filled in and a queued TRAIN job", async () => {
    const exp = await t.admin.mutate(CreateExperimentDocument, { name: "runs-exp" });
    const run = await t.admin.mutate(CreateRunDocument, { experimentId: exp.createExperiment.id, name: "r1", config: runConfig({ seed: 7 }) });
    expect(run.createRun.status).toBe("QUEUED");
    expect(run.createRun.seed).toBe(7);
    const config = run.createRun.config as any;
    expect(config.grpo).toMatchObject({ groupSize: 8, clipEps: 0.2, klCoef: 0.001, entropyCoef: 0.001, gradClip: 1 });
    expect(config.rollout).toMatchObject({ temperature: 1, topK: 0, maxToolTurns: 6 });
    const jobs = await t.admin.query(JobsDocument, { status: ["QUEUED"] });
    expect(jobs.jobs.nodes.some((j) => j.run?.id === run.createRun.id && j.kind === "TRAIN")).toBe(true);
    const got = await t.admin.query(RunDocument, { id: run.createRun.id });
    expect(got.run?.experiment.name).toBe("runs-exp");
  });

  it("names every invalid config field", async () => {
    const exp = await t.admin.mutate(CreateExperimentDocument, { name: "bad-config" });
    const err = await expectCode(
      t.admin.mutate(CreateRunDocument, {
        experimentId: exp.createExperiment.id,
        name: "bad",
        config: { model: {}, dataset: { id: datasetId }, grpo: { lr: -1, groupSize: 1 }, rollout: { temperature: "hot" }, nonsense: 1 },
      }),
      "BAD_USER_INPUT",
    );
    const paths = err.fieldErrors.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(["model.path", "grpo.lr", "grpo.groupSize", "rollout.temperature", "nonsense"]));
    const missing = await expectCode(
      t.admin.mutate(CreateRunDocument, {
        experimentId: exp.createExperiment.id,
        name: "bad",
        config: runConfig({ dataset: { id: "00000000-0000-0000-0000-000000000000" } }),
      }),
      "BAD_USER_INPUT",
    );
    expect(missing.fieldErrors[0].path).toBe("dataset.id");
    const runs = await t.admin.query(RunsDocument, { filter: { experimentId: exp.createExperiment.id } });
    expect(runs.runs.totalCount).toBe(0);
  });

  it("a run's length is explicit: a last stage without steps needs the run's maxSteps (config or stored curriculum)", async () => {
    const exp = await t.admin.mutate(CreateExperimentDocument, { name: "run-length" });
    const experimentId = exp.createExperiment.id;
    const openEnded = { stages: [{ shots: 2, steps: 5 }, { shots: 0 }] };
    const inConfig = await expectCode(
      t.admin.mutate(CreateRunDocument, { experimentId, name: "open", config: runConfig({ curriculum: openEnded }) }),
      "BAD_USER_INPUT",
    );
    expect(inConfig.fieldErrors).toEqual([
      { path: "curriculum.stages.1.steps", message: expect.stringContaining("the last stage (0 shots) needs steps") },
    ]);
    const ruled = await expectCode(
      t.admin.mutate(CreateRunDocument, {
        experimentId,
        name: "ruled",
        config: runConfig({
          curriculum: { stages: [{ shots: 2 }, { shots: 0 }], advanceRules: [{ metric: "accuracy/mean", window: 3, threshold: 0.5 }] },
        }),
      }),
      "BAD_USER_INPUT",
    );
    expect(ruled.fieldErrors).toEqual([{ path: "maxSteps", message: expect.stringContaining("needs an end") }]);
    const stored = await t.admin.mutate(CreateCurriculumDocument, { input: { name: "open-ended", ...openEnded } });
    const viaId = await expectCode(
      t.admin.mutate(CreateRunDocument, { experimentId, name: "stored", config: runConfig(), curriculumId: stored.createCurriculum.id }),
      "BAD_USER_INPUT",
    );
    expect(viaId.fieldErrors).toEqual([{ path: "curriculumId", message: expect.stringContaining("(curriculum open-ended)") }]);
    // With the run's own maxSteps both are fine: the cap is stated.
    await t.admin.mutate(CreateRunDocument, { experimentId, name: "capped", config: runConfig({ curriculum: openEnded, maxSteps: 12 }) });
    await t.admin.mutate(CreateRunDocument, {
      experimentId,
      name: "capped-stored",
      config: runConfig({ maxSteps: 12 }),
      curriculumId: stored.createCurriculum.id,
    });
    expect((await t.admin.query(RunsDocument, { filter: { experimentId } })).runs.totalCount).toBe(2);
    const someRun = (await t.admin.query(RunsDocument, { filter: { experimentId } })).runs.nodes[0];
    const unnamedFork = await expectCode(t.admin.mutate(ForkRunDocument, { id: someRun.id, name: "" }), "BAD_USER_INPUT");
    expect(unnamedFork.fieldErrors).toEqual([{ path: "name", message: "must not be empty" }]);
  });

  it("filters and paginates runs by experiment and status", async () => {
    const exp = await t.admin.mutate(CreateExperimentDocument, { name: "many-runs" });
    for (let i = 0; i < 5; i++)
      await t.admin.mutate(CreateRunDocument, { experimentId: exp.createExperiment.id, name: `run-${i}`, config: runConfig() });
    const p1 = await t.admin.query(RunsDocument, { first: 2, filter: { experimentId: exp.createExperiment.id, status: ["QUEUED"] } });
    expect(p1.runs.totalCount).toBe(5);
    expect(p1.runs.nodes.map((r) => r.name)).toEqual(["run-4", "run-3"]);
    const p2 = await t.admin.query(RunsDocument, { first: 10, after: p1.runs.pageInfo.endCursor, filter: { experimentId: exp.createExperiment.id } });
    expect(p2.runs.nodes.map((r) => r.name)).toEqual(["run-2", "run-1", "run-0"]);
    expect(p2.runs.pageInfo.hasNextPage).toBe(false);
    const none = await t.admin.query(RunsDocument, { filter: { experimentId: exp.createExperiment.id, status: ["SUCCEEDED"] } });
    expect(none.runs.totalCount).toBe(0);
  });
});

describe("benchmark runs", () => {
  it("starts a benchmark run over a split and enqueues an EVAL job", async () => {
    const b = await t.admin.mutate(StartBenchmarkRunDocument, {
      input: { name: "tiny on synthetic", datasetId, model: "models/tiny.gguf", config: { split: "test", limit: 10 } },
    });
    expect(b.startBenchmarkRun).toMatchObject({ status: "QUEUED", total: 10, completed: 0 });
    expect((b.startBenchmarkRun.config as any).shots).toBe(0);
    const list = await t.admin.query(BenchmarkRunsDocument, { datasetId });
    expect(list.benchmarkRuns.totalCount).toBe(1);
    const err = await expectCode(
      t.admin.mutate(StartBenchmarkRunDocument, { input: { name: "x", datasetId, model: "m.gguf", config: { split: "nope" } } }),
      "BAD_USER_INPUT",
    );
    expect(err.fieldErrors[0].path).toBe("config.split");
    const unnamed = await expectCode(
      t.admin.mutate(StartBenchmarkRunDocument, { input: { name: " ", datasetId, model: "m.gguf" } }),
      "BAD_USER_INPUT",
    );
    expect(unnamed.fieldErrors).toEqual([{ path: "name", message: "must not be empty" }]);
    expect((await t.admin.query(BenchmarkRunsDocument, { datasetId })).benchmarkRuns.totalCount).toBe(1);
  });
});
