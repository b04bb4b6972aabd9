// The embedded Postgres killed under a running server (hardening: fault matrix): requests fail fast
// with a code clients retry on (never an internal error, never a hang), /readyz says not ready, the
// server starts Postgres again by itself and nothing committed is lost. When Postgres cannot be
// started again, /healthz fails with the reason and the server says it cannot go on.
import { chmod, mkdtemp, rm, unlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateExperimentDocument, ExperimentsDocument, createClient, type IcrlApiError, type IcrlClient } from "../../client-sdk/src/index.js";
import { readPostmasterPid } from "../../server/db/postmaster-files.js";
import { createLogger } from "../../server/logger.js";
import { startServer, type RunningServer } from "../../server/main.js";

const ADMIN = "postgres-restart-admin-key";
let scratch: string;
let server: RunningServer;
let admin: IcrlClient;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), "icrl-pg-restart-"));
  await chmod(scratch, 0o711);
  server = await startServer(
    { port: 0, host: "127.0.0.1", dataDir: path.join(scratch, "pg"), artifactDir: path.join(scratch, "artifacts"), adminKey: ADMIN },
    { logger: createLogger({ level: (process.env.ICRL_TEST_LOG as "silent") ?? "silent" }), env: {} },
  );
  admin = createClient({ url: server.url, token: ADMIN });
}, 180_000);

afterAll(async () => {
  await admin?.close();
  await server?.stop();
  await rm(scratch, { recursive: true, force: true });
});

const status = async (route: string) => (await fetch(`${server.url}${route}`)).status;
/** A request's outcome: "ok", or its error code and HTTP status. */
const attempt = (name: string) =>
  admin.mutate(CreateExperimentDocument, { name }).then(
    () => "ok",
    (e: IcrlApiError) => `${e.code} ${e.status}`,
  );

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("embedded Postgres killed under the server", () => {
  it("is restarted; meanwhile requests get DATABASE_UNAVAILABLE (HTTP 503) and /readyz 503; nothing committed is lost", {
    timeout: 120_000,
  }, async () => {
    expect(await attempt("before the kill")).toBe("ok");
    const dataDir = path.join(scratch, "pg");
    const first = readPostmasterPid(dataDir)!.pid;
    const killedAt = Date.now();
    process.kill(first, "SIGKILL");

    // Answers while it is away: only the retryable code, and the first right after the kill is one
    // (the restart waits 200 ms before it even begins).
    const answers: string[] = [await attempt("during the outage 0")];
    const readiness: number[] = [await status("/readyz")];
    await until("the server to be ready again", async () => {
      answers.push(await attempt(`during the outage ${answers.length}`));
      readiness.push(await status("/readyz"));
      return readiness[readiness.length - 1] === 200;
    });
    // For RELIABILITY.md: how long the server was not ready, and how many requests were refused meanwhile.
    console.log("postgres restart", JSON.stringify({ notReadyMs: Date.now() - killedAt, refused: answers.filter((a) => a !== "ok").length }));
    expect(answers[0]).toBe("DATABASE_UNAVAILABLE 503");
    expect(readiness[0]).toBe(503);
    expect(answers.filter((a) => a !== "ok" && a !== "DATABASE_UNAVAILABLE 503")).toEqual([]);
    expect(await status("/healthz")).toBe(200);

    expect(readPostmasterPid(dataDir)!.pid).not.toBe(first);
    expect(await attempt("after the restart")).toBe("ok");
    const names = (await admin.query(ExperimentsDocument, { first: 200 })).experiments.nodes.map((e) => e.name);
    expect(names).toContain("before the kill");
    expect(names).toContain("after the restart");
    // An experiment whose request was answered "ok" during the outage is there; none is there twice.
    const okDuring = answers.flatMap((a, i) => (a === "ok" ? [`during the outage ${i}`] : []));
    for (const name of okDuring) expect(names.filter((n) => n === name)).toHaveLength(1);
  });

  it("that cannot be started again makes /healthz fail with the reason, and the server says it cannot go on", { timeout: 120_000 }, async () => {
    const dataDir = path.join(scratch, "pg");
    const fatal = new Promise<Error>((resolve) => server.onFatal(resolve));
    // Without PG_VERSION the directory is no cluster any more: every restart is refused.
    await unlink(path.join(dataDir, "PG_VERSION"));
    process.kill(readPostmasterPid(dataDir)!.pid, "SIGKILL");
    const error = await fatal;
    expect(error.message).toMatch(/could not be restarted/);
    expect(error.message).toContain(dataDir);
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(503);
    expect(((await health.json()) as { error: string }).error).toBe(error.message);
    expect(await status("/readyz")).toBe(503);
    expect(await attempt("after it is lost")).toBe("DATABASE_UNAVAILABLE 503");
  });
});
