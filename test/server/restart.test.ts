// A server process killed with SIGKILL (its embedded Postgres left orphaned) and restarted on the
// same data dir comes back with all committed data; SIGTERM shuts down cleanly.
import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm, chmod } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createClient, CreateExperimentDocument, ExperimentsDocument } from "../../client-sdk/src/index.js";
import { freePort, startServerProcess as startServer, waitReady } from "../support/server-process.js";

const KEY = "icrl_restart_admin_key_0123456789";
const children: ChildProcess[] = [];
let dir: string;

const startServerProcess = (port: number) => {
  const child = startServer({ port, adminKey: KEY, storage: { dir } });
  children.push(child);
  return child;
};

const exited = (c: ChildProcess) =>
  new Promise<number | null>((resolve) => (c.exitCode !== null ? resolve(c.exitCode) : c.once("exit", (code) => resolve(code))));

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("restart", () => {
  it("comes back with all committed data after SIGKILL, and stops cleanly on SIGTERM", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "icrl-restart-"));
    await chmod(dir, 0o755); // the embedded Postgres runs as another OS user when we are root
    const port = await freePort();
    const first = startServerProcess(port);
    await waitReady(port, first);
    const client = createClient({ url: `http://127.0.0.1:${port}`, token: KEY });
    for (let i = 0; i < 20; i++) await client.mutate(CreateExperimentDocument, { name: `kept-${i}` });
    await client.close();
    first.kill("SIGKILL");
    await exited(first);

    const second = startServerProcess(port);
    await waitReady(port, second);
    const again = createClient({ url: `http://127.0.0.1:${port}`, token: KEY });
    const list = await again.query(ExperimentsDocument, { first: 100 });
    expect(list.experiments.totalCount).toBe(20);
    expect(new Set(list.experiments.nodes.map((e) => e.name))).toEqual(new Set(Array.from({ length: 20 }, (_, i) => `kept-${i}`)));
    await again.mutate(CreateExperimentDocument, { name: "after-restart" });
    await again.close();

    second.kill("SIGTERM");
    expect(await exited(second)).toBe(0);
    // Clean shutdown stopped Postgres too: a third start needs no orphan handling and sees everything.
    const third = startServerProcess(port);
    await waitReady(port, third);
    const last = createClient({ url: `http://127.0.0.1:${port}`, token: KEY });
    expect((await last.query(ExperimentsDocument, { first: 100 })).experiments.totalCount).toBe(21);
    await last.close();
    third.kill("SIGTERM");
    expect(await exited(third)).toBe(0);
  });
});
