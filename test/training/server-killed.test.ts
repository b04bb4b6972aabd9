// Fault matrix: the server process SIGKILLed while a worker is training and streaming the steps'
// rollouts and metrics to it, then started again on the same port and data directory. The worker's
// outbox holds what was not acknowledged and delivers it when the server is back; nothing committed
// before the kill is lost, nothing is stored twice, and the run finishes.
import type { ChildProcess } from "node:child_process";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import {
  CreateApiKeyDocument,
  CreateDemonstrationSetDocument,
  CreateExperimentDocument,
  CreateRunDocument,
  createClient,
  RunDocument,
  type IcrlClient,
} from "../../client-sdk/src/index.js";
import { Worker } from "../../worker/runtime/worker.js";
import { freePort, startServerProcess as startServer, waitReady } from "../support/server-process.js";
import { allMetricPoints, allRollouts, lookupDemoSet, lookupRunConfig, runJobs, setupLookup, waitFor } from "./support.js";

const KEY = "icrl_server_killed_admin_key_0123";
const children: ChildProcess[] = [];
let dir: string;

function startServerProcess(port: number): ChildProcess {
  const child = startServer({ port, adminKey: KEY, storage: { dir } });
  children.push(child);
  return child;
}

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("server SIGKILLed while a worker trains", () => {
  it("loses nothing committed, stores nothing twice, and the run finishes", { timeout: 900_000 }, async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "icrl-server-killed-"));
    await chmod(dir, 0o755); // the embedded Postgres runs as another OS user when we are root
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const first = startServerProcess(port);
    await waitReady(port, first);
    const admin: IcrlClient = createClient({ url, token: KEY });
    const setup = await setupLookup({ admin }, dir);
    const demos = (await admin.mutate(CreateDemonstrationSetDocument, { input: { name: "lookup", task: "QA", items: lookupDemoSet(setup).items } }))
      .createDemonstrationSet.id;
    const experimentId = (await admin.mutate(CreateExperimentDocument, { name: "server-killed" })).createExperiment.id;
    const STEPS = 6;
    const config = lookupRunConfig(setup, {
      dataset: { id: setup.datasetId, split: "train" },
      curriculum: {
        stages: [
          { shots: 2, steps: 3 },
          { shots: 0, steps: 3 },
        ],
      },
      demonstrations: { selection: "first", setId: demos },
      checkpointEvery: 2,
    });
    const runId = (await admin.mutate(CreateRunDocument, { experimentId, name: "through-a-kill", config })).createRun.id;
    const token = (await admin.mutate(CreateApiKeyDocument, { name: "trainer", role: "WORKER" })).createApiKey.secret;

    const lines: string[] = [];
    const worker = new Worker({
      serverUrl: url,
      token,
      name: "trainer",
      threads: 1,
      gpu: false,
      dataDir: path.join(dir, "worker"),
      allowPaths: [dir],
      pollMs: 100,
      maxJobs: 1,
      logger: pino({ level: "info" }, { write: (line: string) => void lines.push(line) }),
    });
    const done = worker.run();
    const stepsDone = () => lines.filter((l) => l.includes('"msg":"step done"')).length;
    // Step 2 under way: its rollouts are being generated and streamed when the server dies.
    await waitFor("step 1 done", async () => stepsDone() >= 1, 600_000, 10);
    first.kill("SIGKILL");
    await new Promise((r) => first.once("exit", r));
    const stepsWhileDown = stepsDone();
    const second = startServerProcess(port);
    await waitReady(port, second);
    await done;
    console.log("server killed", JSON.stringify({ killedAfterStep: 1, stepsDoneByRestart: stepsWhileDown }));

    const again = createClient({ url, token: KEY });
    const run = (await again.query(RunDocument, { id: runId })).run!;
    expect(run.error).toBeNull();
    expect(run.status).toBe("SUCCEEDED");
    expect(run.step).toBe(STEPS);
    const rollouts = await allRollouts(again, runId);
    const keys = rollouts.map((r) => `${r.step}/${r.groupIndex}/${r.sampleIndex}`);
    expect(new Set(keys).size, "no rollout stored twice").toBe(keys.length);
    const perStep = config.grpo.groupSize * config.grpo.questionsPerStep;
    expect(keys.sort()).toEqual(
      Array.from(
        { length: STEPS * perStep },
        (_, i) => `${Math.floor(i / perStep) + 1}/${Math.floor((i % perStep) / config.grpo.groupSize)}/${i % config.grpo.groupSize}`,
      ).sort(),
    );
    const points = await allMetricPoints(again, runId);
    const pointKeys = points.map((p) => `${p.key}@${p.step}`);
    expect(new Set(pointKeys).size, "no metric point stored twice").toBe(pointKeys.length);
    for (let step = 1; step <= STEPS; step++) expect(pointKeys).toContain(`reward/mean@${step}`);
    expect((await runJobs(again, runId)).map((j) => j.status)).toEqual(["SUCCEEDED"]);
    await again.close();
    await admin.close();
    second.kill("SIGTERM");
  });
});
