// `icrl server` start-up problems as a user meets them: one line on stderr naming what is wrong and
// the fix, and a documented exit code, never a stack trace.
import { existsSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { EXIT } from "../../cli/support/exit-codes.js";
import { createLogger, createTestDatabase, startServer, type TestDatabase } from "../../server/index.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { runCli } from "./helpers.js";

vi.setConfig({ testTimeout: 120_000 });

let db: TestDatabase;
let t: TestServer;
let artifactDir: string;

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startTestServer();
  artifactDir = await mkdtemp(path.join(os.tmpdir(), "icrl-startup-"));
});

afterAll(async () => {
  await t?.close();
  await db?.drop();
});

function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, ICRL_LOG_LEVEL: "silent", NO_COLOR: "1", ...extra };
  for (const name of ["DATABASE_URL", "ICRL_ADMIN_KEY", "ICRL_LEASE_SECONDS", "ICRL_PORT", "PORT"]) if (!(name in extra)) delete e[name];
  return e;
}

async function startFails(args: string[], extra: Record<string, string> = {}) {
  const r = await runCli(["server", "--port", "0", "--artifact-dir", artifactDir, ...args], env(extra), { timeoutMs: 60_000 });
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^icrl server: /);
  return { code: r.code, line: lines[0] };
}

describe("icrl server start-up errors", () => {
  it("a port in use: says so and how to fix it, exit 6", async () => {
    const r = await startFails(["--database-url", db.url, "--port", String(t.server.port), "--host", "127.0.0.1"]);
    expect(r.line).toMatch(new RegExp(`port ${t.server.port} .*already in use.*--port`));
    expect(r.line).not.toMatch(/WebSocket/);
    expect(r.code).toBe(EXIT.ADDRESS_UNAVAILABLE);
  });

  it("an ICRL_ADMIN_KEY under 16 characters, exit 2", async () => {
    const r = await startFails(["--database-url", db.url], { ICRL_ADMIN_KEY: "short" });
    expect(r.line).toMatch(/ICRL_ADMIN_KEY must be at least 16 characters/);
    expect(r.code).toBe(EXIT.BAD_INPUT);
  });

  it("a bad ICRL_LOG_LEVEL names the levels, exit 2", async () => {
    const r = await startFails(["--database-url", db.url], { ICRL_LOG_LEVEL: "loud" });
    expect(r.line).toMatch(/ICRL_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/);
    expect(r.code).toBe(EXIT.BAD_INPUT);
  });

  it("a bad ICRL_LEASE_SECONDS, exit 2", async () => {
    const r = await startFails(["--database-url", db.url], { ICRL_LEASE_SECONDS: "soon" });
    expect(r.line).toMatch(/ICRL_LEASE_SECONDS must be a whole number of seconds/);
    expect(r.code).toBe(EXIT.BAD_INPUT);
  });

  it("a data directory another running server holds: one line with the fix, exit 8; the demo refuses before any work", async () => {
    const scratch = await mkdtemp(path.join(os.tmpdir(), "icrl-busy-"));
    await chmod(scratch, 0o755); // embedded Postgres may run as another OS user
    const holder = await startServer(
      {
        port: 0,
        host: "127.0.0.1",
        dataDir: path.join(scratch, "pg"),
        artifactDir: path.join(scratch, "artifacts"),
        adminKey: "icrl_busy_admin_key_0123456789",
      },
      { logger: createLogger({ level: "silent" }), env: {} },
    );
    try {
      const server = await startFails(["--data-dir", path.join(scratch, "pg")]);
      expect(server.line).toMatch(
        new RegExp(
          `data directory .*pg is in use by another running server \\(pid ${process.pid}, .*\\): stop that server or pass another --data-dir$`,
        ),
      );
      expect(server.code).toBe(EXIT.DATA_DIR_IN_USE);

      const demo = await runCli(["demo", "--port", "0", "--data-dir", scratch], env({}), { timeoutMs: 60_000 });
      expect(demo.stderr.trimEnd().split("\n"), demo.stderr).toEqual([
        expect.stringMatching(/^error: data directory .* is in use by another running server .*: stop that server or pass another --data-dir$/),
      ]);
      expect(demo.code).toBe(EXIT.DATA_DIR_IN_USE);
      // Refused before pre-training the model or touching the directory's state.
      expect(existsSync(path.join(scratch, "tiny-lookup.gguf"))).toBe(false);
      expect(existsSync(path.join(scratch, "demo.json"))).toBe(false);
    } finally {
      await holder.stop();
      await rm(scratch, { recursive: true, force: true });
    }
  });

  it("an unreachable DATABASE_URL: where, and the fix, without the password, exit 7", async () => {
    const r = await startFails([], { DATABASE_URL: "postgres://icrl:s3cret@127.0.0.1:1/icrl" });
    expect(r.line).toMatch(/cannot reach the database at 127\.0\.0\.1:1\/icrl .*DATABASE_URL/);
    expect(r.line).not.toMatch(/s3cret/);
    expect(r.code).toBe(EXIT.DATABASE_UNREACHABLE);
  });
});
