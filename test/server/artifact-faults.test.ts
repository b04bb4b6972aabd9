// Artifact uploads under faults: the worker's uploader retries what may succeed (a 503 from a proxy in
// front of the real server) and never a refusal (4xx); a full disk on the server (a real ENOSPC error
// from the store's temp file) is a coded 507 naming the artifact directory, leaves no file and no row,
// and the uploader says the server's storage is full.
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArtifactsDocument, createClient, type IcrlClient } from "../../client-sdk/src/index.js";
import { ArtifactStore } from "../../server/artifacts/store.js";
import { uploadArtifact } from "../../worker/training/upload-artifact.js";
import { startFaultProxy, type FaultProxy, type FaultRule } from "../support/fault-proxy.js";
import { claimedTrainJob } from "../support/claimed-job.js";
import { startTestServer, type TestServer } from "../support/server.js";

let t: TestServer;
let dir: string;
let jobId: string;
let runId: string;
let workerToken: string;
let file: string;
let proxy: FaultProxy | null = null;
const data = randomBytes(200_000);
const sha = createHash("sha256").update(data).digest("hex");
const fastRetry = { initialMs: 5, maxMs: 20 };

beforeAll(async () => {
  t = await startTestServer();
  dir = await mkdtemp(path.join(os.tmpdir(), "icrl-artifact-faults-"));
  ({ runId, jobId, workerToken } = await claimedTrainJob(t, dir, "artifact-faults"));
  file = path.join(dir, "adapter.gguf");
  await writeFile(file, data);
});

afterAll(async () => {
  await proxy?.close();
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

async function viaProxy(rule: FaultRule): Promise<IcrlClient> {
  await proxy?.close();
  proxy = await startFaultProxy(t.server.url, rule);
  return createClient({ url: proxy.url, token: workerToken });
}

const artifactUpload = (req: { method: string; path: string }) => req.method === "POST" && req.path.startsWith("/artifacts");
const storedSteps = async () => (await t.admin.query(ArtifactsDocument, { runId, kind: "ADAPTER" })).artifacts.map((a) => a.step).sort();

/** A temp file that takes half of the first chunk, then fails the way a full disk does. */
function diskFullAfterFirstChunk(tmp: string): Writable {
  const real = createWriteStream(tmp);
  const enospc = () =>
    Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", errno: -os.constants.errno.ENOSPC, syscall: "write" });
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      real.write(chunk.subarray(0, Math.ceil(chunk.length / 2)), () => cb(enospc()));
    },
    final: (cb) => real.end(cb),
    destroy: (err, cb) => {
      real.destroy();
      cb(err);
    },
  });
}

describe("artifact uploads under faults", () => {
  it("retries 503 answers and stores the artifact once", async () => {
    let refused = 0;
    const client = await viaProxy((req) =>
      artifactUpload(req) && refused++ < 2 ? { status: 503, body: { error: { code: "UNAVAILABLE", message: "busy" } } } : null,
    );
    const retried: string[] = [];
    const res = await uploadArtifact(client, {
      jobId,
      kind: "ADAPTER",
      name: "a.gguf",
      step: 1,
      file,
      retry: fastRetry,
      onRetry: (e) => retried.push(String(e)),
    });
    expect(res).toMatchObject({ sha256: sha, bytes: data.length });
    expect(proxy!.faults).toBe(2);
    expect(retried).toHaveLength(2);
    expect(await storedSteps()).toEqual([1]);
    await client.close();
  });

  it("gives up on a 500 after a bounded number of tries, and never retries a 4xx", async () => {
    let client = await viaProxy((req) =>
      artifactUpload(req) ? { status: 500, body: { error: { code: "INTERNAL_SERVER_ERROR", message: "Upload failed" } } } : null,
    );
    await expect(uploadArtifact(client, { jobId, kind: "ADAPTER", name: "b.gguf", step: 2, file, retry: fastRetry })).rejects.toThrow(
      /HTTP 500\): Upload failed \(gave up after 8 tries\)/,
    );
    expect(proxy!.faults).toBe(8);
    await client.close();
    client = await viaProxy((req) => (artifactUpload(req) ? { status: 400, body: { error: { code: "BAD_USER_INPUT", message: "no" } } } : null));
    await expect(uploadArtifact(client, { jobId, kind: "ADAPTER", name: "c.gguf", step: 3, file, retry: fastRetry })).rejects.toThrow(/HTTP 400/);
    expect(proxy!.faults).toBe(1);
    await client.close();
    expect(await storedSteps()).toEqual([1]);
  });

  it("a full disk is a 507 STORAGE_FULL naming the directory, with no partial file or row, and the worker says so", async () => {
    const services = t.server.services;
    const real = services.artifacts;
    services.artifacts = new ArtifactStore(t.artifactDir, { openTempFile: diskFullAfterFirstChunk });
    try {
      const res = await fetch(`${t.server.url}/artifacts?kind=ADAPTER&name=full.gguf&step=4&jobId=${jobId}`, {
        method: "POST",
        headers: { authorization: `Bearer ${workerToken}`, "content-type": "application/octet-stream" },
        body: data,
      });
      expect(res.status).toBe(507);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("STORAGE_FULL");
      expect(body.error.message).toContain(t.artifactDir);
      expect(body.error.message).toMatch(/is full \(ENOSPC\)/);

      const client = createClient({ url: t.server.url, token: workerToken });
      const retried: unknown[] = [];
      await expect(
        uploadArtifact(client, { jobId, kind: "ADAPTER", name: "full.gguf", step: 4, file, retry: fastRetry, onRetry: (e) => retried.push(e) }),
      ).rejects.toThrow(/^artifact storage is full on the server: full\.gguf was not stored\. The server's artifact directory .* is full/);
      expect(retried).toEqual([]);
      await client.close();
    } finally {
      services.artifacts = real;
    }
    expect(await readdir(path.join(t.artifactDir, "tmp"))).toEqual([]);
    expect(await storedSteps()).toEqual([1]);
  });
});
