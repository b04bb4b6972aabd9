// Starts a real server on a fresh database for a test file, with an admin client.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createLogger, createTestDatabase, startServer, type RunningServer } from "../../server/index.js";
import { createClient, type IcrlClient } from "../../client-sdk/src/index.js";

export const ADMIN_KEY = "icrl_test_admin_key_0123456789abcdef";

export interface TestServer {
  server: RunningServer;
  admin: IcrlClient;
  databaseUrl: string;
  artifactDir: string;
  client(token: string): IcrlClient;
  /** Start another server process-equivalent (same database) for multi-replica tests. */
  startReplica(): Promise<RunningServer>;
  close(): Promise<void>;
}

export async function startTestServer(overrides: Record<string, unknown> = {}): Promise<TestServer> {
  const db = await createTestDatabase();
  const artifactDir = await mkdtemp(path.join(os.tmpdir(), "icrl-artifacts-"));
  const logger = createLogger({ level: process.env.ICRL_TEST_LOG ?? "silent" });
  const start = () =>
    startServer({ port: 0, host: "127.0.0.1", databaseUrl: db.url, artifactDir, adminKey: ADMIN_KEY, ...overrides }, { logger, env: {} });
  const server = await start();
  const clients: IcrlClient[] = [];
  const replicas: RunningServer[] = [];
  const client = (token: string) => {
    const c = createClient({ url: server.url, token });
    clients.push(c);
    return c;
  };
  return {
    server,
    admin: client(ADMIN_KEY),
    databaseUrl: db.url,
    artifactDir,
    client,
    startReplica: async () => {
      const r = await start();
      replicas.push(r);
      return r;
    },
    close: async () => {
      for (const c of clients) await c.close();
      for (const r of replicas) await r.stop();
      await server.stop();
      await db.drop();
      await rm(artifactDir, { recursive: true, force: true });
    },
  };
}
