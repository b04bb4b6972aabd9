// Artifact upload/download over HTTP: streamed, sha256-verified, size-limited, scoped to jobs.
import { createHash, randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import {
  ArtifactDocument,
  ArtifactsDocument,
  ClaimJobDocument,
  CreateApiKeyDocument,
  CreateExperimentDocument,
  CreateRunDocument,
  FailJobDocument,
  ImportDatasetDocument,
  RegisterWorkerDocument,
  RunDocument,
  StartBenchmarkRunDocument,
} from "../../client-sdk/src/index.js";
import { ADMIN_KEY, startTestServer, type TestServer } from "../support/server.js";
import { writeQaJsonl } from "../support/fixtures.js";

let t: TestServer;
const LIMIT = 3 * 1024 * 1024;

beforeAll(async () => {
  t = await startTestServer({ maxArtifactBytes: LIMIT });
});
afterAll(async () => {
  await t?.close();
});

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

async function upload(token: string, query: string, body: Buffer | Readable) {
  return fetch(`${t.server.url}/artifacts?${query}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream" },
    body: Buffer.isBuffer(body) ? body : (Readable.toWeb(body as Readable) as never),
    duplex: "half",
  } as RequestInit);
}

describe("artifacts", () => {
  it("uploads a streamed file, verifies sha256 and downloads the same bytes", async () => {
    const data = randomBytes(2 * 1024 * 1024 + 17);
    const chunks = Array.from({ length: 9 }, (_, i) => data.subarray(i * 240_000, (i + 1) * 240_000));
    const res = await upload("icrl_test_admin_key_0123456789abcdef", `kind=REPORT&name=report.bin&sha256=${sha(data)}`, Readable.from(chunks));
    expect(res.status).toBe(201);
    const meta = await res.json();
    expect(meta).toMatchObject({ sha256: sha(data), bytes: data.length });
    const dl = await t.admin.http(`/artifacts/${meta.id}`);
    expect(dl.status).toBe(200);
    expect(dl.headers.get("x-artifact-sha256")).toBe(sha(data));
    expect(sha(Buffer.from(await dl.arrayBuffer()))).toBe(sha(data));
    const q = await t.admin.query(ArtifactDocument, { id: meta.id });
    expect(q.artifact).toMatchObject({ kind: "REPORT", name: "report.bin", bytes: String(data.length), downloadPath: `/artifacts/${meta.id}` });
    expect(q.artifact?.metadata).toBeNull(); // none given
  });

  it("keeps the uploader's metadata (a small JSON object) and refuses anything else", async () => {
    const data = randomBytes(100);
    const given = { model: "qwen2.5-0.5b.gguf", lora: { rank: 8 } };
    const ok = await upload(ADMIN_KEY, `kind=REPORT&name=m.bin&metadata=${encodeURIComponent(JSON.stringify(given))}`, data);
    expect(ok.status).toBe(201);
    expect((await t.admin.query(ArtifactDocument, { id: (await ok.json()).id })).artifact?.metadata).toEqual(given);
    const before = (await t.admin.query(ArtifactsDocument, {})).artifacts.length;
    for (const bad of ["[1,2]", "not json", "7", JSON.stringify({ x: "y".repeat(5000) })]) {
      const res = await upload(ADMIN_KEY, `kind=REPORT&name=bad.bin&metadata=${encodeURIComponent(bad)}`, data);
      expect(res.status, bad.slice(0, 20)).toBe(400);
      expect((await res.json()).error.message).toMatch(/^metadata must be a JSON object of at most 4096 characters/);
    }
    expect((await t.admin.query(ArtifactsDocument, {})).artifacts.length).toBe(before);
  });

  it("rejects a sha256 mismatch and an oversize body, leaving nothing behind", async () => {
    const data = randomBytes(1000);
    const before = (await t.admin.query(ArtifactsDocument, {})).artifacts.length;
    const bad = await upload("icrl_test_admin_key_0123456789abcdef", `kind=REPORT&name=x&sha256=${"0".repeat(64)}`, data);
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toMatch(/sha256 mismatch/);
    const big = randomBytes(LIMIT + 1);
    const tooBig = await upload(
      "icrl_test_admin_key_0123456789abcdef",
      `kind=REPORT&name=big`,
      Readable.from([big.subarray(0, LIMIT / 2), big.subarray(LIMIT / 2)]),
    );
    expect(tooBig.status).toBe(413);
    expect((await t.admin.query(ArtifactsDocument, {})).artifacts.length).toBe(before);
    expect(await readdir(path.join(t.artifactDir, "tmp"))).toEqual([]);
    const noKind = await upload("icrl_test_admin_key_0123456789abcdef", "name=x", data);
    expect(noKind.status).toBe(400);
  });

  it("workers upload only for jobs they hold, and the artifact joins the job's run", async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), "icrl-art-"));
    await writeQaJsonl(path.join(tmp, "qa.jsonl"), 3);
    const ds = await t.admin.mutate(ImportDatasetDocument, { input: { name: "qa", kind: "QA", format: "JSONL", path: path.join(tmp, "qa.jsonl") } });
    const exp = await t.admin.mutate(CreateExperimentDocument, { name: "art" });
    const run = await t.admin.mutate(CreateRunDocument, {
      experimentId: exp.createExperiment.id,
      name: "r",
      config: { model: { path: "m.gguf" }, dataset: { id: ds.importDataset.id } },
    });
    const reg = (await t.admin.mutate(CreateApiKeyDocument, { name: "reg", role: "WORKER" })).createApiKey.secret;
    const tokA = (await t.client(reg).mutate(RegisterWorkerDocument, { name: "a", capabilities: {} })).registerWorker.token;
    const tokB = (await t.client(reg).mutate(RegisterWorkerDocument, { name: "b", capabilities: {} })).registerWorker.token;
    const job = (await t.client(tokA).mutate(ClaimJobDocument, {})).claimJob!.job;
    const data = randomBytes(4096);
    const denied = await upload(tokB, `kind=ADAPTER&name=a.gguf&step=5&jobId=${job.id}`, data);
    expect(denied.status).toBe(403);
    const ok = await upload(tokA, `kind=ADAPTER&name=a.gguf&step=5&jobId=${job.id}&sha256=${sha(data)}`, data);
    expect(ok.status).toBe(201);
    const stored = await t.admin.query(ArtifactsDocument, { runId: run.createRun.id, kind: "ADAPTER" });
    expect(stored.artifacts.map((a) => [a.step, a.sha256])).toEqual([[5, sha(data)]]);
    const viaRun = await t.admin.query(RunDocument, { id: run.createRun.id });
    expect(viaRun.run?.id).toBe(run.createRun.id);
  });
  it("a worker key downloads only the artifacts of jobs it holds; admin and member keys read every artifact", async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), "icrl-art-read-"));
    await writeQaJsonl(path.join(tmp, "qa.jsonl"), 3);
    const ds = await t.admin.mutate(ImportDatasetDocument, {
      input: { name: "qa-read", kind: "QA", format: "JSONL", path: path.join(tmp, "qa.jsonl") },
    });
    const exp = await t.admin.mutate(CreateExperimentDocument, { name: "art-read" });
    const run = await t.admin.mutate(CreateRunDocument, {
      experimentId: exp.createExperiment.id,
      name: "read",
      config: { model: { path: "m.gguf" }, dataset: { id: ds.importDataset.id } },
    });
    const runId = run.createRun.id;
    const data = randomBytes(2048);
    const up = await upload("icrl_test_admin_key_0123456789abcdef", `kind=ADAPTER&name=read.gguf&step=1&runId=${runId}&sha256=${sha(data)}`, data);
    expect(up.status).toBe(201);
    const artifactId = (await up.json()).id as string;
    const download = (token: string) => t.client(token).http(`/artifacts/${artifactId}`);

    const reg = (await t.admin.mutate(CreateApiKeyDocument, { name: "reg-read", role: "WORKER" })).createApiKey.secret;
    const register = async (name: string) => (await t.client(reg).mutate(RegisterWorkerDocument, { name, capabilities: {} })).registerWorker.token;
    const [holder, stranger, evaluator] = [await register("holder"), await register("stranger"), await register("evaluator")];
    const job = (await t.client(holder).mutate(ClaimJobDocument, { kinds: ["TRAIN"] })).claimJob!.job;
    expect(job.run?.id).toBe(runId);

    const held = await download(holder);
    expect(held.status).toBe(200);
    expect(sha(Buffer.from(await held.arrayBuffer()))).toBe(sha(data));
    for (const token of [stranger, reg]) {
      const refused = await download(token);
      expect(refused.status).toBe(403);
      const body = await refused.json();
      expect(body.error).toMatchObject({ code: "FORBIDDEN", rule: expect.stringMatching(/^a worker key reads only the artifacts of jobs it holds/) });
    }
    const member = (await t.admin.mutate(CreateApiKeyDocument, { name: "member-read", role: "MEMBER" })).createApiKey.secret;
    expect((await download(member)).status).toBe(200);
    expect((await t.admin.http(`/artifacts/${artifactId}`)).status).toBe(200);

    // An EVAL job's declared input: the adapter its benchmark run evaluates, from any run.
    await t.admin.mutate(StartBenchmarkRunDocument, {
      input: { name: "read-adapter", datasetId: ds.importDataset.id, model: "m.gguf", adapterArtifactId: artifactId },
    });
    expect((await download(evaluator)).status).toBe(403);
    expect((await t.client(evaluator).mutate(ClaimJobDocument, { kinds: ["EVAL"] })).claimJob).not.toBeNull();
    expect((await download(evaluator)).status).toBe(200);

    // Holding is now: once the job is over, its run's artifacts are out of reach again.
    await t.client(holder).mutate(FailJobDocument, { jobId: job.id, error: "done here", retry: false });
    expect((await download(holder)).status).toBe(403);
  });
});
