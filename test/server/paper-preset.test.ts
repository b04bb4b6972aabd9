// preset: "paper" through the real server: a run with it is accepted and stores the resolved values
// (the user's own settings kept), a conflict is refused naming the field, a benchmark with it stores
// the official evaluation's settings, and a benchmark of a run's adapter uses the run's template.
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateExperimentDocument,
  CreateRunDocument,
  IcrlApiError,
  ImportDatasetDocument,
  StartBenchmarkRunDocument,
} from "../../client-sdk/src/index.js";
import { QA_SEARCH_TEMPLATE } from "../../worker/icrl/default-templates.js";
import { ADMIN_KEY, startTestServer, type TestServer } from "../support/server.js";
import { writeQaJsonl } from "../support/fixtures.js";

let t: TestServer;
let datasetId: string;
let experimentId: string;

beforeAll(async () => {
  t = await startTestServer();
  const file = path.join(await mkdtemp(path.join(os.tmpdir(), "icrl-preset-")), "qa.jsonl");
  await writeQaJsonl(file, 20, 4);
  datasetId = (await t.admin.mutate(ImportDatasetDocument, { input: { name: "preset-qa", kind: "QA", format: "JSONL", path: file } })).importDataset
    .id;
  experimentId = (await t.admin.mutate(CreateExperimentDocument, { name: "preset" })).createExperiment.id;
});
afterAll(async () => {
  await t?.close();
});

const createRun = (name: string, config: Record<string, unknown>) =>
  t.admin.mutate(CreateRunDocument, { experimentId, name, config: { model: { path: "models/tiny.gguf" }, dataset: { id: datasetId }, ...config } });

describe("preset paper on the server", () => {
  it("stores a run's resolved config, the user's settings winning", async () => {
    const run = (await createRun("paper", { preset: "paper", grpo: { lr: 2e-5 } })).createRun;
    const config = run.config as any;
    expect(config.preset).toBe("paper");
    expect(config.grpo).toMatchObject({
      lr: 2e-5,
      groupSize: 8,
      miniBatchQuestions: 32,
      stageWarmup: 0.1,
      resetOnStage: { optimizer: true, reference: true },
    });
    expect(config.rollout).toMatchObject({ maxTurnTokens: 2048, turnCapAction: "invalid", loop: "official" });
    expect(config.reward).toMatchObject({ metric: "em", multiGold: "containsAll", scope: "promptAndResponse" });
  });

  it("refuses miniBatchSize with miniBatchQuestions as BAD_USER_INPUT naming the field", async () => {
    const error = await createRun("both", { grpo: { miniBatchSize: 8, miniBatchQuestions: 2 } }).then(
      () => null,
      (e) => e,
    );
    expect(error).toBeInstanceOf(IcrlApiError);
    expect(error.code).toBe("BAD_USER_INPUT");
    expect(error.fieldErrors).toEqual([{ path: "grpo.miniBatchQuestions", message: expect.stringContaining("not both") }]);
  });

  it("stores a benchmark's resolved config", async () => {
    const b = await t.admin.mutate(StartBenchmarkRunDocument, {
      input: { name: "paper eval", datasetId, model: "models/tiny.gguf", config: { preset: "paper", samples: 4 } },
    });
    const config = b.startBenchmarkRun.config as any;
    expect(config).toMatchObject({ preset: "paper", samples: 4, maxTurnTokens: 512, loop: "official", decoding: { temperature: 0.1 } });
  });

  it("evaluates a run's adapter under the run's template unless the benchmark names one", async () => {
    const template = { ...QA_SEARCH_TEMPLATE, name: "trained-with" };
    const run = (await createRun("templated", { template, model: { path: "models/tiny.gguf", chatTemplateArgs: { enable_thinking: false } } }))
      .createRun;
    const data = randomBytes(512);
    const sha = createHash("sha256").update(data).digest("hex");
    const up = await fetch(`${t.server.url}/artifacts?kind=ADAPTER&name=a.gguf&step=1&runId=${run.id}&sha256=${sha}`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/octet-stream" },
      body: data,
    });
    expect(up.status).toBe(201);
    const adapterArtifactId = (await up.json()).id as string;
    const start = (config: Record<string, unknown>) =>
      t.admin.mutate(StartBenchmarkRunDocument, { input: { name: "adapter", datasetId, model: "models/tiny.gguf", adapterArtifactId, config } });
    const inherited = (await start({})).startBenchmarkRun.config as any;
    expect(inherited.template.name).toBe("trained-with");
    expect(inherited.chatTemplateArgs).toEqual({ enable_thinking: false });
    const own = (await start({ template: { ...QA_SEARCH_TEMPLATE, name: "bench-own" } })).startBenchmarkRun.config as any;
    expect(own.template.name).toBe("bench-own");
  });
});
