// A run or benchmark config names files on the worker (model.path, tools.search.corpus), and any member
// key can create one: a real worker started with one allowed root must refuse every path that resolves
// outside it (plainly outside, through `..`, through a symlink), failing the job with the path, the roots
// and the fix, and must never show a byte of such a file; a path inside the root still works.
import { copyFile, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BenchmarkRunDocument, CreateExperimentDocument, CreateRunDocument, RunDocument } from "../../client-sdk/src/index.js";
import { createLogger } from "../../server/logger.js";
import { Worker } from "../../worker/runtime/worker.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { allRollouts, lookupRunConfig, runJobs, setupLookup, type LookupSetup } from "../training/support.js";
import { allItems, startBenchmark, workerKey } from "./helpers.js";

const SECRET = "the-worker-machine-secret-4711";

let t: TestServer;
let root: string;
let outside: string;
let secretCorpus: string;
let setup: LookupSetup;
let key: string;

beforeAll(async () => {
  t = await startTestServer();
  root = await mkdtemp(path.join(os.tmpdir(), "icrl-allowed-"));
  outside = await mkdtemp(path.join(os.tmpdir(), "icrl-not-allowed-"));
  setup = await setupLookup(t, root);
  // A well-formed corpus: if the worker opened it, searches would return its text in rollouts.
  secretCorpus = path.join(outside, "secret.jsonl");
  await writeFile(secretCorpus, `${JSON.stringify({ id: "s", title: "Code", text: `Code ${SECRET}` })}\n`);
  key = await workerKey(t);
});

afterAll(async () => {
  await t?.close();
  await rm(root, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

async function newRun(name: string, config: Record<string, unknown>): Promise<string> {
  const exp = await t.admin.mutate(CreateExperimentDocument, { name });
  return (await t.admin.mutate(CreateRunDocument, { experimentId: exp.createExperiment.id, name, config })).createRun.id;
}

/** A real worker allowed to read under `root` only, running `jobs` jobs. */
async function runJobsOnWorker(name: string, jobs: number): Promise<void> {
  const worker = new Worker({
    serverUrl: t.server.url,
    token: key,
    name,
    threads: 1,
    gpu: false,
    dataDir: path.join(root, `worker-${name}`),
    allowPaths: [root],
    pollMs: 100,
    maxJobs: jobs,
    logger: createLogger({ level: process.env.ICRL_TEST_LOG ?? "silent" }),
  });
  await worker.run();
}

/** The run failed on its only attempt, with the refusal, and stored nothing of the file. */
async function expectRefused(runId: string, field: string, given: string, resolvesTo?: string): Promise<void> {
  const run = (await t.admin.query(RunDocument, { id: runId })).run!;
  expect(run.status).toBe("FAILED");
  expect(run.error).toContain(`${field} ${given}`);
  if (resolvesTo) expect(run.error).toContain(`(resolves to ${resolvesTo})`);
  expect(run.error).toContain(`outside the directories this worker may read (${root})`);
  expect(run.error).toContain("--allow-path <dir>");
  expect((await runJobs(t.admin, runId)).map((j) => [j.status, j.attempts])).toEqual([["FAILED", 1]]);
  const rollouts = await allRollouts(t.admin, runId);
  expect(JSON.stringify(rollouts)).not.toContain(SECRET);
  expect(rollouts).toEqual([]);
}

describe("paths a job may read on the worker", () => {
  it("refuses a corpus, a model, a `..` path and a symlink that resolve outside the allowed root", { timeout: 120_000 }, async () => {
    // Written out, not path.join()ed: join would remove the `..` before the worker sees it.
    const escaping = `${root}/../${path.basename(outside)}/secret.jsonl`;
    const link = path.join(root, "innocent.jsonl");
    await symlink(secretCorpus, link);
    const outsideModel = path.join(outside, "tiny.gguf");
    await copyFile(setup.model, outsideModel);
    const search = (corpus: string) => ({ tools: { search: { kind: "local", corpus, topK: 1, maxTokens: 64 } } });

    const plain = await newRun("outside", lookupRunConfig(setup, search(secretCorpus)));
    const dotdot = await newRun("dotdot", lookupRunConfig(setup, search(escaping)));
    const symlinked = await newRun("symlink", lookupRunConfig(setup, search(link)));
    const model = await newRun("model", lookupRunConfig(setup, { model: { path: outsideModel, contextSize: 1024 } }));
    await runJobsOnWorker("refuser", 4);

    await expectRefused(plain, "tools.search.corpus", secretCorpus);
    await expectRefused(dotdot, "tools.search.corpus", escaping, secretCorpus);
    await expectRefused(symlinked, "tools.search.corpus", link, secretCorpus);
    await expectRefused(model, "model.path", outsideModel);
  });

  it("refuses a benchmark's corpus outside the root and runs one inside it (also through a symlink within it)", { timeout: 120_000 }, async () => {
    const inside = path.join(root, "corpus-link.jsonl");
    await symlink(setup.corpus, inside);
    const tools = (corpus: string) => ({ limit: 2, parallel: 2, tools: { search: { kind: "local", corpus } } });
    const refused = await startBenchmark(t.admin, {
      name: "outside corpus",
      datasetId: setup.datasetId,
      model: setup.model,
      config: tools(secretCorpus),
    });
    await runJobsOnWorker("bench-refuser", 1);
    const allowed = await startBenchmark(t.admin, { name: "inside corpus", datasetId: setup.datasetId, model: setup.model, config: tools(inside) });
    await runJobsOnWorker("bench-runner", 1);

    const failed = (await t.admin.query(BenchmarkRunDocument, { id: refused.id, first: 1 })).benchmarkRun!;
    expect(failed.status).toBe("FAILED");
    expect(failed.error).toContain(`config.tools.search.corpus ${secretCorpus} is outside the directories this worker may read (${root})`);
    expect(JSON.stringify(await allItems(t.admin, refused.id))).not.toContain(SECRET);

    const done = (await t.admin.query(BenchmarkRunDocument, { id: allowed.id, first: 1 })).benchmarkRun!;
    expect(done.error).toBeNull();
    expect(done.status).toBe("SUCCEEDED");
    expect(await allItems(t.admin, allowed.id)).toHaveLength(2);
  });
});
