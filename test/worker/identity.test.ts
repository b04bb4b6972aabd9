// A worker is the same worker across restarts: it keeps an id in its data directory, the server
// registers it again as that worker, and `icrl worker list` shows it once, OFFLINE after a clean stop
// and ONLINE again after the restart. Two data directories are two workers.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { ClaimJobDocument, CreateApiKeyDocument, RegisterWorkerDocument, WorkersDocument } from "../../client-sdk/src/index.js";
import { Worker } from "../../worker/runtime/worker.js";
import { createLogger } from "../../server/logger.js";
import { ADMIN_KEY, startTestServer, type TestServer } from "../support/server.js";
import { cliEnv, runCli } from "../cli/helpers.js";

let t: TestServer;
let dir: string;
let key: string;

beforeAll(async () => {
  t = await startTestServer();
  dir = await mkdtemp(path.join(os.tmpdir(), "icrl-worker-identity-"));
  key = (await t.admin.mutate(CreateApiKeyDocument, { name: "workers", role: "WORKER" })).createApiKey.secret;
});

afterAll(async () => {
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Starts a real worker on `dataDir`, waits until it is registered, stops it cleanly; returns its id. */
async function startAndStop(name: string, dataDir: string, whileRunning?: () => Promise<void>): Promise<string> {
  const worker = new Worker({
    serverUrl: t.server.url,
    token: key,
    name,
    threads: 1,
    gpu: false,
    dataDir,
    pollMs: 100,
    capabilities: { backend: "cpu" },
    logger: createLogger({ level: process.env.ICRL_TEST_LOG ?? "silent" }),
  });
  const running = worker.run();
  const id = await worker.ready;
  await whileRunning?.();
  worker.stop("test");
  const summary = await running;
  expect(summary.clean).toBe(true);
  return id;
}

async function listed(): Promise<{ id: string; name: string; status: string }[]> {
  const r = await runCli(["worker", "list", "--json"], cliEnv(t.server.url, ADMIN_KEY));
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe("worker identity", () => {
  it("a restarted worker is the same worker, back ONLINE; another data directory is another worker", { timeout: 180_000 }, async () => {
    const dataDir = path.join(dir, "box");
    const first = await startAndStop("box", dataDir);
    const stored = (await readFile(path.join(dataDir, "worker-id"), "utf8")).trim();
    expect(stored).toMatch(/^[0-9a-f-]{36}$/);
    expect(await listed()).toEqual([expect.objectContaining({ id: first, name: "box", status: "OFFLINE" })]);

    let whileRestarted: { id: string; status: string }[] = [];
    const second = await startAndStop("box", dataDir, async () => {
      whileRestarted = await listed();
    });
    expect(second).toBe(first);
    expect(whileRestarted).toEqual([expect.objectContaining({ id: first, status: "ONLINE" })]);
    expect((await readFile(path.join(dataDir, "worker-id"), "utf8")).trim()).toBe(stored);

    const other = await startAndStop("box", path.join(dir, "box-2"));
    expect(other).not.toBe(first);
    expect((await listed()).map((w) => w.id).sort()).toEqual([first, other].sort());
  });

  it("an instance id that is not one is refused with BAD_USER_INPUT", async () => {
    await expect(
      t.client(key).mutate(RegisterWorkerDocument, { name: "x", capabilities: { backend: "cpu" }, instanceId: "../../etc" }),
    ).rejects.toMatchObject({ code: "BAD_USER_INPUT" });
  });
});

describe("worker liveness", () => {
  it("a worker not heard from for three leases is OFFLINE, and ONLINE again once it claims", async () => {
    const reg = (await t.admin.mutate(CreateApiKeyDocument, { name: "liveness", role: "WORKER" })).createApiKey.secret;
    const registered = (await t.client(reg).mutate(RegisterWorkerDocument, { name: "quiet", capabilities: { backend: "cpu" } })).registerWorker;
    const statusOf = async () => (await t.admin.query(WorkersDocument, {})).workers.find((w) => w.id === registered.worker.id)?.status;
    expect(await statusOf()).toBe("ONLINE");
    // Its last word 181 s ago (the test server's lease is the default 60 s): it died without signing off.
    const db = new pg.Client({ connectionString: t.databaseUrl });
    await db.connect();
    try {
      await db.query("UPDATE workers SET last_seen_at = now() - interval '181 seconds' WHERE id = $1", [registered.worker.id]);
      expect(await statusOf()).toBe("OFFLINE");
      const listed = await runCli(["worker", "list"], cliEnv(t.server.url, ADMIN_KEY));
      expect(listed.stdout).toMatch(/quiet\s+OFFLINE/);
      await db.query("UPDATE workers SET last_seen_at = now() - interval '170 seconds' WHERE id = $1", [registered.worker.id]);
      expect(await statusOf()).toBe("ONLINE");
      await db.query("UPDATE workers SET last_seen_at = now() - interval '181 seconds' WHERE id = $1", [registered.worker.id]);
    } finally {
      await db.end();
    }
    // Heard from again (a claim, even one that finds no job): ONLINE.
    await t.client(registered.token).mutate(ClaimJobDocument, { kinds: ["EVAL"] });
    expect(await statusOf()).toBe("ONLINE");
  });
});
