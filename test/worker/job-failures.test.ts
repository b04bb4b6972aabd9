// Which failed jobs are tried again: a real worker (llama.cpp engine, PyTorch learner) against a real
// server. A model the learner cannot read fails the same way on every attempt, so the run must fail at
// once and `icrl run show` must say why; a failure the next attempt may not meet is retried, and
// `run show` says so while the run waits.
import { closeSync, copyFileSync, openSync, statSync, writeSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ClaimJobDocument,
  CreateApiKeyDocument,
  CreateExperimentDocument,
  CreateRunDocument,
  FailJobDocument,
  RegisterWorkerDocument,
  RunDocument,
} from "../../client-sdk/src/index.js";
import { readGguf, readTensorData } from "../../worker/engine/gguf/reader.js";
import { gguf, writeGguf } from "../../worker/engine/gguf/writer.js";
import { GgmlType } from "../../worker/engine/gguf/ggml-types.js";
import { Worker } from "../../worker/runtime/worker.js";
import { createLogger } from "../../server/logger.js";
import { ADMIN_KEY, startTestServer, type TestServer } from "../support/server.js";
import { cliEnv, runCli } from "../cli/helpers.js";
import { lookupRunConfig, runJobs, setupLookup, type LookupSetup } from "../training/support.js";

let t: TestServer;
let dir: string;
let setup: LookupSetup;

beforeAll(async () => {
  t = await startTestServer();
  dir = await mkdtemp(path.join(os.tmpdir(), "icrl-job-failures-"));
  await chmod(dir, 0o755);
  setup = await setupLookup(t, dir);
});

afterAll(async () => {
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The tiny model with one setting llama.cpp accepts and the learner refuses (rope attn_factor != 1). */
function modelTheLearnerRefuses(): string {
  const source = readGguf(setup.model);
  const out = path.join(dir, "attn-factor.gguf");
  const metadata = new Map(source.metadata);
  metadata.set("llama.rope.scaling.attn_factor", gguf.f32(0.5));
  const tensors = source.tensors.map((info) => {
    if (info.type !== GgmlType.F32) throw new Error(`tiny model tensor ${info.name} is not F32`);
    return { name: info.name, dims: info.dims, type: info.type, data: readTensorData(source, info) };
  });
  writeGguf(out, metadata, tensors);
  return out;
}

/** The tiny model with one tensor's data overwritten with 0xFF bytes (NaN in F32): same size, valid header. */
function modelWithNanWeights(): string {
  const out = path.join(dir, "nan-weights.gguf");
  copyFileSync(setup.model, out);
  const file = readGguf(out);
  const tensor = file.tensors.find((t) => t.name === "blk.0.attn_q.weight")!;
  const fd = openSync(out, "r+");
  writeSync(fd, Buffer.alloc(tensor.byteSize, 0xff), 0, tensor.byteSize, file.dataOffset + tensor.offset);
  closeSync(fd);
  expect(statSync(out).size).toBe(statSync(setup.model).size);
  return out;
}

async function newRun(name: string, config: Record<string, unknown>): Promise<string> {
  const exp = await t.admin.mutate(CreateExperimentDocument, { name });
  return (await t.admin.mutate(CreateRunDocument, { experimentId: exp.createExperiment.id, name, config })).createRun.id;
}

/** A real worker (its own key and data directory) that runs one job and stops. */
async function runOneJob(name: string): Promise<void> {
  const key = (await t.admin.mutate(CreateApiKeyDocument, { name: `w-${name}`, role: "WORKER" })).createApiKey.secret;
  const worker = new Worker({
    serverUrl: t.server.url,
    token: key,
    name: `trainer-${name}`,
    threads: 1,
    gpu: false,
    dataDir: path.join(dir, `worker-${name}`),
    allowPaths: [dir],
    pollMs: 100,
    maxJobs: 1,
    logger: createLogger({ level: process.env.ICRL_TEST_LOG ?? "silent" }),
  });
  await worker.run();
}

describe("job failures", () => {
  it("a model the learner cannot read fails the run on the first attempt, and run show says why", { timeout: 300_000 }, async () => {
    const runId = await newRun("learner-refuses", lookupRunConfig(setup, { model: { path: modelTheLearnerRefuses(), contextSize: 1024 } }));
    await runOneJob("refused");

    const final = (await t.admin.query(RunDocument, { id: runId })).run!;
    expect(final.status).toBe("FAILED");
    expect(final.error).toMatch(/attn_factor 0\.5 is not supported/);
    expect((await runJobs(t.admin, runId)).map((j) => [j.status, j.attempts])).toEqual([["FAILED", 1]]);

    const show = await runCli(["run", "show", runId], cliEnv(t.server.url, ADMIN_KEY));
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/failed because +.*attn_factor 0\.5 is not supported.* \(after 1 of 3 attempts\)/);
  });

  it("a model file with NaN weights fails the run at once, naming the file and the tensor", { timeout: 300_000 }, async () => {
    const model = modelWithNanWeights();
    // Zero-shot and short: with a sound model this run succeeds (the same config as the stream-failure test).
    const runId = await newRun(
      "nan-weights",
      lookupRunConfig(setup, {
        model: { path: model, contextSize: 1024 },
        curriculum: { stages: [{ shots: 0, steps: 2 }] },
        validation: { every: 2, size: 1 },
      }),
    );
    await runOneJob("nan-weights");
    const final = (await t.admin.query(RunDocument, { id: runId })).run!;
    expect(final.status).toBe("FAILED");
    expect(final.error).toContain(`${model}: tensor blk.0.attn_q.weight holds NaN or infinite values: the model file is corrupt`);
    expect((await runJobs(t.admin, runId)).map((j) => [j.status, j.attempts])).toEqual([["FAILED", 1]]);
  });

  it("a prompt longer than model.contextSize fails the run at once, naming the setting", { timeout: 300_000 }, async () => {
    // The default 2-shot demonstrations make a prompt of over 2,000 tokens with the byte tokenizer.
    const runId = await newRun("context-size", lookupRunConfig(setup, { model: { path: setup.model, contextSize: 256 } }));
    await runOneJob("context");
    const final = (await t.admin.query(RunDocument, { id: runId })).run!;
    expect(final.status).toBe("FAILED");
    expect(final.error).toMatch(
      /the prompt \(2-shot\) has \d+ tokens, more than model\.contextSize 256 leaves room for: raise model\.contextSize \(the model was trained for 1024\)/,
    );
    expect((await runJobs(t.admin, runId)).map((j) => [j.status, j.attempts])).toEqual([["FAILED", 1]]);
  });

  it("run show says a retried attempt failed, and why, while the run waits for another", { timeout: 120_000 }, async () => {
    const runId = await newRun("retried", lookupRunConfig(setup));
    const reg = (await t.admin.mutate(CreateApiKeyDocument, { name: "w-retry", role: "WORKER" })).createApiKey.secret;
    const token = (await t.client(reg).mutate(RegisterWorkerDocument, { name: "retry", capabilities: { backend: "cpu" } })).registerWorker.token;
    const worker = t.client(token);
    const claimed = (await worker.mutate(ClaimJobDocument, { kinds: ["TRAIN"] })).claimJob!;
    expect(claimed.job.run?.id).toBe(runId);
    await worker.mutate(FailJobDocument, { jobId: claimed.job.id, error: "learner crashed (SIGKILL)", retry: true });

    const show = await runCli(["run", "show", runId], cliEnv(t.server.url, ADMIN_KEY));
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/status +QUEUED/);
    expect(show.stdout).toMatch(/last attempt +failed \(attempt 1 of 3\), retrying: learner crashed \(SIGKILL\)/);
  });
});
