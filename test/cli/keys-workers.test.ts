// `icrl key create|list|revoke` and `icrl worker list`: letting a worker in without writing GraphQL,
// and seeing which workers are there.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { RegisterWorkerDocument } from "../../client-sdk/src/index.js";
import { ADMIN_KEY, startTestServer, type TestServer } from "../support/server.js";
import { cliEnv, runCli } from "./helpers.js";

vi.setConfig({ testTimeout: 120_000 });

let t: TestServer;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  t = await startTestServer();
  env = cliEnv(t.server.url, ADMIN_KEY);
});

afterAll(async () => {
  await t?.close();
});

describe("icrl key", () => {
  it("creates a WORKER key whose secret registers a worker; lists it; revokes it", async () => {
    const created = await runCli(["key", "create", "--name", "gpu-box", "--role", "worker", "--json"], env);
    expect(created.code, created.stderr).toBe(0);
    const { apiKey, secret } = JSON.parse(created.stdout);
    expect(apiKey).toMatchObject({ name: "gpu-box", role: "WORKER" });
    const registration = await t.client(secret).mutate(RegisterWorkerDocument, { name: "box-1", capabilities: { backend: "vulkan" } });
    expect(registration.registerWorker.worker.name).toBe("box-1");

    const table = await runCli(["key", "list"], env);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`${apiKey.id}\\s+gpu-box\\s+WORKER`));
    expect(table.stdout).not.toContain(secret);

    const revoked = await runCli(["key", "revoke", apiKey.id], env);
    expect(revoked.code, revoked.stderr).toBe(0);
    const after = JSON.parse((await runCli(["key", "list", "--json"], env)).stdout) as { id: string }[];
    expect(after.map((k) => k.id)).not.toContain(apiKey.id);
    const withRevoked = JSON.parse((await runCli(["key", "list", "--all", "--json"], env)).stdout) as { id: string; revokedAt: string | null }[];
    expect(withRevoked.find((k) => k.id === apiKey.id)?.revokedAt).toBeTruthy();
  });

  it("prints the secret in the human output too, and rejects an unknown role with exit 2", async () => {
    const created = await runCli(["key", "create", "--name", "laptop", "--role", "MEMBER"], env);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/secret \(shown once\)\s+\S{16,}/);
    const bad = await runCli(["key", "create", "--name", "x", "--role", "OWNER"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--role must be ADMIN, MEMBER or WORKER/);
  });

  it("revoking an unknown key exits 3", async () => {
    const r = await runCli(["key", "revoke", "00000000-0000-4000-8000-000000000000"], env);
    expect(r.code).toBe(3);
  });
});

describe("icrl worker list", () => {
  it("shows each worker's name, status, backend and last heartbeat", async () => {
    const reg = JSON.parse((await runCli(["key", "create", "--name", "reg", "--role", "WORKER", "--json"], env)).stdout).secret;
    await t.client(reg).mutate(RegisterWorkerDocument, { name: "cuda-box", capabilities: { backend: "cuda" } });
    const r = await runCli(["worker", "list"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/NAME\s+STATUS\s+BACKEND\s+LAST SEEN/);
    expect(r.stdout).toMatch(/cuda-box\s+ONLINE\s+cuda\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    const json = JSON.parse((await runCli(["worker", "list", "--json"], env)).stdout) as { name: string; capabilities: { backend: string } }[];
    expect(json.find((w) => w.name === "cuda-box")?.capabilities.backend).toBe("cuda");
  });
});
