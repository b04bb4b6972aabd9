// `icrl server` and the CLI's stdout, as a user meets them: the server listens on loopback unless
// told otherwise (its first start prints the admin key), and output cut short by a closed pipe
// (`icrl … | head`) ends the command quietly.
import { mkdtemp, readdir } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../server/index.js";
import { ADMIN_KEY, startTestServer, type TestServer } from "../support/server.js";
import { cliEnv, spawnCli } from "./helpers.js";

vi.setConfig({ testTimeout: 180_000 });

let db: TestDatabase;
let t: TestServer;

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startTestServer();
});

afterAll(async () => {
  await t?.close();
  await db?.drop();
});

/** The first address of this machine that is not loopback, if it has one. */
function externalAddress(): string | null {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return null;
}

describe("icrl server", () => {
  it("listens on 127.0.0.1 by default, not on every interface", async () => {
    const child = spawnCli(["server", "--port", "0", "--database-url", db.url, "--artifact-dir", os.tmpdir()], {
      ...process.env,
      ICRL_LOG_LEVEL: "silent",
    });
    try {
      let out = "";
      child.stdout!.on("data", (d) => (out += d));
      let err = "";
      child.stderr!.on("data", (d) => (err += d));
      for (let i = 0; i < 1200 && !/ICRL Lab server: (\S+)/.test(out) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
      const url = /ICRL Lab server: (\S+)/.exec(out)?.[1];
      expect(url, err).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
      const port = new URL(url!).port;
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      const external = externalAddress();
      // On a machine with another interface, the port must not answer there.
      if (external) await expect(fetch(`http://${external}:${port}/healthz`, { signal: AbortSignal.timeout(5000) })).rejects.toThrow();
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
  });
});

describe("icrl server settings", () => {
  it("take the environment when no flag is given, and a flag over the environment", async () => {
    const free = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, "127.0.0.1", () => {
        const port = (probe.address() as net.AddressInfo).port;
        probe.close(() => resolve(port));
      });
    });
    const artifactDir = await mkdtemp(path.join(os.tmpdir(), "icrl-env-artifacts-"));
    const start = async (args: string[]) => {
      const child = spawnCli(["server", ...args], {
        ...process.env,
        ICRL_LOG_LEVEL: "silent",
        ICRL_PORT: String(free),
        ICRL_ARTIFACT_DIR: artifactDir,
        DATABASE_URL: db.url,
        ICRL_ADMIN_KEY: ADMIN_KEY,
      });
      let out = "";
      let err = "";
      child.stdout!.on("data", (d) => (out += d));
      child.stderr!.on("data", (d) => (err += d));
      for (let i = 0; i < 1200 && !/ICRL Lab server: (\S+)/.test(out) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
      const url = /ICRL Lab server: (\S+)/.exec(out)?.[1];
      expect(url, err).toBeDefined();
      return { child, port: Number(new URL(url!).port) };
    };
    const stop = async (child: ReturnType<typeof spawnCli>) => {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    };

    const fromEnv = await start([]);
    try {
      expect(fromEnv.port).toBe(free);
      const upload = await fetch(`http://127.0.0.1:${free}/artifacts?kind=REPORT&name=env.txt`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
        body: "stored where ICRL_ARTIFACT_DIR says",
      });
      expect(upload.status, await upload.clone().text()).toBe(201);
      expect((await readdir(artifactDir, { recursive: true })).length).toBeGreaterThan(0);
    } finally {
      await stop(fromEnv.child);
    }
    const flagged = await start(["--port", "0"]);
    try {
      expect(flagged.port).not.toBe(free);
    } finally {
      await stop(flagged.child);
    }
  });
});

describe("a closed pipe", () => {
  it("ends a command quietly with exit 0 when its reader has gone (`icrl experiment list | head`)", async () => {
    const child = spawnCli(["experiment", "list"], cliEnv(t.server.url, ADMIN_KEY));
    child.stdout!.destroy(); // the reader is gone before the first line is written
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
    expect(stderr).toBe("");
    expect(code).toBe(0);
  });
});
