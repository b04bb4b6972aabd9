// Fault matrix: the artifact directory on a real, small, full filesystem. A server process runs in its
// own user and mount namespace (unshare(1): no root needed where unprivileged user namespaces work,
// as the tool sandbox already requires) with a 2 MiB tmpfs mounted on its artifact directory, and the
// test database behind it. An upload that does not fit meets the kernel's own ENOSPC: it is a coded
// 507, leaves no temp file and no row, the artifact stored before it still downloads intact, and the
// store takes the next upload that fits.
import type { ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArtifactsDocument, createClient } from "../../client-sdk/src/index.js";
import { uploadArtifact } from "../../worker/training/upload-artifact.js";
import { claimedTrainJob } from "../support/claimed-job.js";
import { ADMIN_KEY, startTestServer, type TestServer } from "../support/server.js";
import { freePort, startServerProcess, waitReady } from "../support/server-process.js";

const TMPFS_BYTES = 2 * 2 ** 20;
let t: TestServer;
let dir: string;
let artifactDir: string;
let server: ChildProcess;
let url: string;
let jobId: string;
let runId: string;
let workerToken: string;

/** `icrl server` with a tmpfs of TMPFS_BYTES on its artifact directory, in namespaces of its own. */
function serverOnSmallDisk(port: number): ChildProcess {
  const mountThenExec = 'mount -t tmpfs -o size="$1" icrl-small-disk "$2" && shift 2 && exec "$@"';
  return startServerProcess({
    port,
    adminKey: ADMIN_KEY,
    storage: { databaseUrl: t.databaseUrl, artifactDir },
    wrapper: ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", mountThenExec, "sh", String(TMPFS_BYTES), artifactDir],
  });
}

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

beforeAll(async () => {
  t = await startTestServer();
  dir = await mkdtemp(path.join(os.tmpdir(), "icrl-disk-full-"));
  artifactDir = path.join(dir, "artifacts");
  await mkdir(artifactDir);
  ({ runId, jobId, workerToken } = await claimedTrainJob(t, dir, "disk-full"));
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  server = serverOnSmallDisk(port);
  await waitReady(port, server);
}, 120_000);

afterAll(async () => {
  if (server && server.exitCode === null) {
    server.kill("SIGTERM");
    await new Promise((r) => server.once("exit", r));
  }
  await t?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("artifact directory on a full filesystem", () => {
  it("refuses what does not fit with 507 STORAGE_FULL, keeps what was stored, and takes the next upload that fits", async () => {
    const client = createClient({ url, token: workerToken });
    const upload = async (name: string, step: number, data: Buffer) => {
      const file = path.join(dir, name);
      await writeFile(file, data);
      return uploadArtifact(client, { jobId, kind: "CHECKPOINT", name, step, file, retry: { initialMs: 5, maxMs: 20 } });
    };
    const stored = async () =>
      (await t.admin.query(ArtifactsDocument, { runId, kind: "CHECKPOINT" })).artifacts
        .map((a) => ({ step: a.step, sha256: a.sha256 }))
        .sort((a, b) => a.step! - b.step!);
    try {
      const good = randomBytes(700_000);
      const first = await upload("ckpt-1.pt", 1, good);
      expect(first.sha256).toBe(sha256(good));

      // Larger than what is left: the kernel refuses the temp file's writes part-way.
      const tooBig = randomBytes(TMPFS_BYTES);
      const res = await fetch(`${url}/artifacts?kind=CHECKPOINT&name=ckpt-2.pt&step=2&jobId=${jobId}`, {
        method: "POST",
        headers: { authorization: `Bearer ${workerToken}`, "content-type": "application/octet-stream" },
        body: tooBig,
      });
      expect(res.status).toBe(507);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("STORAGE_FULL");
      expect(body.error.message).toContain(artifactDir);
      expect(body.error.message).toMatch(/is full \(ENOSPC\)/);
      await expect(upload("ckpt-2.pt", 2, tooBig)).rejects.toThrow(/^artifact storage is full on the server: ckpt-2\.pt was not stored/);

      // No partial file in the server's view of its directory (its mount namespace, through /proc).
      expect(await readdir(path.join(`/proc/${server.pid}/root`, artifactDir, "tmp"))).toEqual([]);
      expect(await stored()).toEqual([{ step: 1, sha256: sha256(good) }]);

      // The last good checkpoint is intact, and the space the refused upload took was given back.
      const download = await client.http(`/artifacts/${first.id}`);
      expect(download.status).toBe(200);
      expect(sha256(Buffer.from(await download.arrayBuffer()))).toBe(sha256(good));
      const next = randomBytes(700_000);
      await upload("ckpt-3.pt", 3, next);
      expect(await stored()).toEqual([
        { step: 1, sha256: sha256(good) },
        { step: 3, sha256: sha256(next) },
      ]);
    } finally {
      await client.close();
    }
  });
});
