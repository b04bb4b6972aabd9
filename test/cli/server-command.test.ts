// `icrl server` and the CLI's stdout, as a user meets them: the server listens on loopback unless
// told otherwise (its first start prints the admin key), and output cut short by a closed pipe
// (`icrl … | head`) ends the command quietly.
import os from "node:os";
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
