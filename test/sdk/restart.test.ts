// The SDK across a server restart (same database, same port): the script logger keeps accepting
// points while the server is away and stores each exactly once when it is back; a subscription
// resumes from its last cursor with no gaps and no repeats.
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ClaimJobDocument,
  CompleteJobDocument,
  CreateApiKeyDocument,
  CreateExperimentDocument,
  CreateRunDocument,
  ImportDatasetDocument,
  IcrlNetworkError,
  MetricPointsDocument,
  MetricsBatchDocument,
  RegisterWorkerDocument,
  ReportRolloutsDocument,
  RolloutAddedDocument,
  RolloutsAddedDocument,
  RolloutsDocument,
  RunDocument,
  RunUpdatedDocument,
  createClient,
  startLoggedRun,
  type RolloutAddedSubscription,
  type IcrlClient,
} from "../../client-sdk/src/index.js";
import { startServer, type RunningServer } from "../../server/main.js";
import { createLogger } from "../../server/logger.js";
import { ADMIN_KEY, startTestServer, type TestServer } from "../support/server.js";
import { makeRollout, writeQaJsonl } from "../support/fixtures.js";
import { cliEnv, jsonLines, spawnCli } from "../cli/helpers.js";

let t: TestServer;
let current: RunningServer;
let member: IcrlClient;
let registrationKey: string;
let datasetId: string;

beforeAll(async () => {
  t = await startTestServer();
  current = t.server;
  const dir = await mkdtemp(path.join(os.tmpdir(), "icrl-sdk-"));
  await writeQaJsonl(path.join(dir, "qa.jsonl"), 4);
  datasetId = (await t.admin.mutate(ImportDatasetDocument, { input: { name: "qa", kind: "QA", format: "JSONL", path: path.join(dir, "qa.jsonl") } }))
    .importDataset.id;
  member = t.client((await t.admin.mutate(CreateApiKeyDocument, { name: "scientist", role: "MEMBER" })).createApiKey.secret);
  registrationKey = (await t.admin.mutate(CreateApiKeyDocument, { name: "scripts", role: "WORKER" })).createApiKey.secret;
});

afterAll(async () => {
  if (current !== t?.server) await current?.stop();
  await t?.close();
});

const stopServer = () => current.stop();

/** A new server process-equivalent on the same port and database. */
async function startAgain(): Promise<void> {
  current = await startServer(
    { port: t.server.port, host: "127.0.0.1", databaseUrl: t.databaseUrl, adminKey: ADMIN_KEY, artifactDir: t.artifactDir },
    { logger: createLogger({ level: "silent" }), env: {} },
  );
}

const rollout = (step: number, sample: number) => makeRollout(step, 0, sample, 200);

describe("script logger", () => {
  it("keeps logging while the server is down and stores every point exactly once after it is back", async () => {
    const run = await startLoggedRun({
      client: member,
      registrationKey,
      experiment: "sdk-logger",
      name: "through-a-restart",
      config: { model: { path: "models/tiny.gguf" }, dataset: { id: datasetId } },
      batchDelayMs: 20,
      retry: { initialMs: 50, maxMs: 400 },
    });
    const started = (await member.query(RunDocument, { id: run.runId })).run!;
    expect(started.status).toBe("RUNNING");
    expect((started.config as any).requirements.backend).toMatch(/^script-/);

    const logStep = (step: number) => {
      run.log({ loss: 1 / (step + 1), "reward/mean": step / 100 }, step);
      if (step % 3 === 0) run.logRollouts([rollout(step, 0), rollout(step, 1)]);
    };
    for (let step = 0; step < 30; step++) logStep(step);
    await run.flush();
    expect(run.stats().metrics).toEqual({ enqueued: 60, delivered: 60 });

    await stopServer();
    const before = performance.now();
    for (let step = 30; step < 60; step++) logStep(step);
    expect(performance.now() - before).toBeLessThan(100); // enqueueing never waits for the server
    await new Promise((r) => setTimeout(r, 800)); // batches are tried (and fail) while it is away
    expect(run.stats().metrics.delivered).toBe(60);

    await startAgain();
    expect(await run.finish()).toEqual({ status: "SUCCEEDED" });

    const points: { key: string; step: number; value: number }[] = [];
    let after: string | null = null;
    do {
      const page: any = (await member.query(MetricPointsDocument, { runId: run.runId, first: 50, after })).metricPoints;
      points.push(...page.nodes);
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    expect(points).toHaveLength(120);
    expect(new Set(points.map((p) => `${p.key}@${p.step}`)).size).toBe(120);
    for (const p of points) expect(p.value).toBe(p.key === "loss" ? 1 / (p.step + 1) : p.step / 100);
    const rollouts = (await member.query(RolloutsDocument, { runId: run.runId, first: 100 })).rollouts;
    expect(rollouts.totalCount).toBe(40);
    const final = (await member.query(RunDocument, { id: run.runId })).run!;
    expect(final).toMatchObject({ status: "SUCCEEDED", step: 59 });
    expect(() => run.log({ late: 1 }, 60)).toThrow(/finished/);
  });

  it("rejects bad values at once, in the caller", async () => {
    const run = await startLoggedRun({
      client: t.admin,
      experiment: "sdk-logger",
      name: "bad-values",
      config: { model: { path: "m.gguf" }, dataset: { id: datasetId } },
    });
    expect(() => run.log({ loss: Number.NaN }, 1)).toThrow(RangeError);
    expect(() => run.log({ loss: 1 }, -1)).toThrow(RangeError);
    expect(() => run.log({ "": 1 }, 1)).toThrow(TypeError);
    expect(await run.finish({ error: "gave up" })).toEqual({ status: "FAILED" });
    expect((await t.admin.query(RunDocument, { id: run.runId })).run).toMatchObject({ status: "FAILED", error: "gave up" });
  });
});

describe("subscriptions", () => {
  it("resume after a server restart with no gaps and no duplicates", async () => {
    const experimentId = (await t.admin.mutate(CreateExperimentDocument, { name: "sdk-subscriptions" })).createExperiment.id;
    const runId = (
      await t.admin.mutate(CreateRunDocument, { experimentId, name: "live", config: { model: { path: "m.gguf" }, dataset: { id: datasetId } } })
    ).createRun.id;
    const workerToken = (await t.client(registrationKey).mutate(RegisterWorkerDocument, { name: "w", capabilities: { backend: "cpu" } }))
      .registerWorker.token;
    const worker = t.client(workerToken);
    const jobId = (await worker.mutate(ClaimJobDocument, {})).claimJob!.job.id;
    const report = (steps: number[]) =>
      worker.mutate(ReportRolloutsDocument, { jobId, rollouts: steps.flatMap((s) => [rollout(s, 0), rollout(s, 1)]) });

    const received: RolloutAddedSubscription["rolloutAdded"][] = [];
    const stop = new AbortController();
    const consumer = (async () => {
      for await (const event of member.subscribe(RolloutAddedDocument, { runId, after: "0" }, { signal: stop.signal })) {
        received.push(event.rolloutAdded);
      }
    })();
    const waitFor = async (n: number) => {
      const deadline = Date.now() + 30_000;
      while (received.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    };

    for (let s = 0; s < 10; s += 2) await report([s, s + 1]);
    await waitFor(20);
    expect(received).toHaveLength(20);

    await stopServer();
    await startAgain();
    // Reported before the client has reconnected: it must get them from the replay.
    for (let s = 10; s < 20; s += 2) await report([s, s + 1]);
    await waitFor(40);
    await new Promise((r) => setTimeout(r, 300)); // anything extra (a duplicate) would show up now
    stop.abort();
    await consumer;

    expect(received).toHaveLength(40);
    const cursors = received.map((e) => BigInt(e.cursor));
    expect(cursors.every((c, i) => i === 0 || c > cursors[i - 1])).toBe(true);
    expect(received.map((e) => `${e.rollout.step}/${e.rollout.sampleIndex}`)).toEqual(
      Array.from({ length: 20 }, (_, s) => [`${s}/0`, `${s}/1`]).flat(),
    );
  });
});

describe("a subscription opened without a cursor", () => {
  it("drops before its first event and still resumes from where it was opened: no gap, no repeat", { timeout: 120_000 }, async () => {
    const experimentId = (await t.admin.mutate(CreateExperimentDocument, { name: "sdk-subscription-start" })).createExperiment.id;
    const runId = (
      await t.admin.mutate(CreateRunDocument, { experimentId, name: "start", config: { model: { path: "m.gguf" }, dataset: { id: datasetId } } })
    ).createRun.id;
    const workerToken = (await t.client(registrationKey).mutate(RegisterWorkerDocument, { name: "w-start", capabilities: { backend: "cpu" } }))
      .registerWorker.token;
    const jobId = (await t.client(workerToken).mutate(ClaimJobDocument, {})).claimJob!.job.id;
    const reportTo = (client: IcrlClient, steps: number[]) =>
      client.mutate(ReportRolloutsDocument, { jobId, rollouts: steps.flatMap((s) => [rollout(s, 0), rollout(s, 1)]) });

    await reportTo(t.client(workerToken), [0, 1]); // before the subscription: not part of it
    const received: RolloutAddedSubscription["rolloutAdded"][] = [];
    const stop = new AbortController();
    const consumer = (async () => {
      for await (const event of member.subscribe(RolloutAddedDocument, { runId }, { signal: stop.signal })) received.push(event.rolloutAdded);
    })();
    const topic = `rollouts:${runId}` as const;
    const deadline = Date.now() + 30_000;
    while (current.services.feeds.subscribers(topic) < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(current.services.feeds.subscribers(topic), "the subscription is live on the server").toBe(1);

    // The client's server goes away before any event; another server on the same database takes
    // rollouts meanwhile. The client, back on its own server, must get them, once each.
    await stopServer();
    const other = await startServer(
      { port: 0, host: "127.0.0.1", databaseUrl: t.databaseUrl, adminKey: ADMIN_KEY, artifactDir: t.artifactDir },
      { logger: createLogger({ level: "silent" }), env: {} },
    );
    const viaOther = createClient({ url: other.url, token: workerToken });
    try {
      await reportTo(viaOther, [2, 3, 4, 5]);
    } finally {
      await viaOther.close();
      await other.stop();
    }
    await startAgain();
    await reportTo(t.client(workerToken), [6, 7]);
    const until = Date.now() + 30_000;
    while (received.length < 12 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300)); // anything extra (a duplicate) would show up now
    stop.abort();
    await consumer;

    expect(received.map((e) => `${e.rollout.step}/${e.rollout.sampleIndex}`)).toEqual(
      Array.from({ length: 6 }, (_, i) => [`${i + 2}/0`, `${i + 2}/1`]).flat(),
    );
  });
});

describe("several subscriptions on one client", () => {
  it("each resumes across a server restart while a producer keeps logging: every event exactly once", { timeout: 120_000 }, async () => {
    const run = await startLoggedRun({
      client: member,
      registrationKey,
      experiment: "sdk-multi-stream",
      name: "three-streams",
      config: { model: { path: "models/tiny.gguf" }, dataset: { id: datasetId } },
      batchDelayMs: 20,
      retry: { initialMs: 50, maxMs: 400 },
    });
    const runId = run.runId;
    const start = (await member.query(RunDocument, { id: runId })).run!;
    // One client, three live streams, as `icrl run watch` and the dashboard use them (the batched
    // forms for rollouts and metrics).
    const watcher = t.client((await t.admin.mutate(CreateApiKeyDocument, { name: "watcher", role: "MEMBER" })).createApiKey.secret);
    const stop = new AbortController();
    const rollouts: { cursor: string; key: string }[] = [];
    const points: { cursor: string; key: string }[] = [];
    const versions: { cursor: number; status: string; step: number }[] = [];
    const follow = async <T>(events: AsyncGenerator<T>, on: (e: T) => void) => {
      for await (const e of events) on(e);
    };
    const streams = [
      follow(watcher.subscribe(RolloutsAddedDocument, { runId, after: "0", maxBatch: 7 }, { signal: stop.signal }), (e) => {
        for (const r of e.rolloutsAdded.rollouts) rollouts.push({ cursor: r.cursor, key: `${r.step}/${r.sampleIndex}` });
      }),
      follow(watcher.subscribe(MetricsBatchDocument, { runId, after: "0", maxBatch: 7 }, { signal: stop.signal }), (e) => {
        for (const p of e.metricsBatch.points) points.push({ cursor: p.cursor, key: `${p.key}@${p.step}` });
      }),
      follow(watcher.subscribe(RunUpdatedDocument, { runId, after: start.version }, { signal: stop.signal }), (e) =>
        versions.push({ cursor: e.runUpdated.cursor, status: e.runUpdated.run.status, step: e.runUpdated.run.step }),
      ),
    ];
    // A stream that throws or ends on its own fails the test at once instead of timing out.
    const broken = Promise.all(streams.map((s) => s.then(() => (stop.signal.aborted ? null : new Error("a stream ended by itself")))));
    const waitUntil = async (what: string, done: () => boolean) => {
      const deadline = Date.now() + 60_000;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await Promise.race([
          new Promise((r) => setTimeout(r, 50)),
          broken.then((errors) => errors.find(Boolean) && Promise.reject(errors.find(Boolean))),
        ]);
      }
    };
    const logStep = (step: number) => {
      run.log({ loss: 1 / (step + 1), "reward/mean": step / 100 }, step);
      run.logRollouts([rollout(step, 0), rollout(step, 1)]);
    };

    for (let step = 1; step <= 20; step++) logStep(step);
    await run.flush();
    await waitUntil("the first 20 steps on every stream", () => rollouts.length === 40 && points.length === 40 && versions.at(-1)?.step === 20);

    await stopServer();
    for (let step = 21; step <= 40; step++) logStep(step); // the producer goes on while the server is away
    await startAgain();
    for (let step = 41; step <= 60; step++) logStep(step);
    expect(await run.finish()).toEqual({ status: "SUCCEEDED" });
    await waitUntil(
      "all 60 steps and the final status",
      () => rollouts.length >= 120 && points.length >= 120 && versions.at(-1)?.status === "SUCCEEDED",
    );
    stop.abort();
    await Promise.all(streams);

    const steps = Array.from({ length: 60 }, (_, i) => i + 1);
    expect(rollouts.map((r) => r.key)).toEqual(steps.flatMap((s) => [`${s}/0`, `${s}/1`]));
    expect(points.map((p) => p.key).sort()).toEqual(steps.flatMap((s) => [`loss@${s}`, `reward/mean@${s}`]).sort());
    for (const list of [rollouts.map((r) => BigInt(r.cursor)), points.map((p) => BigInt(p.cursor)), versions.map((v) => BigInt(v.cursor))]) {
      expect(list.every((c, i) => i === 0 || c > list[i - 1])).toBe(true);
    }
    expect(versions.map((v) => v.step).every((s, i, all) => i === 0 || s >= all[i - 1])).toBe(true);
  });

  it("gives up after reconnectTimeoutMs with a clear network error when the server does not come back", { timeout: 60_000 }, async () => {
    const runId = (
      await member.query(RunDocument, {
        id: (
          await startLoggedRun({
            client: member,
            registrationKey,
            experiment: "sdk-multi-stream",
            name: "server-gone",
            config: { model: { path: "models/tiny.gguf" }, dataset: { id: datasetId } },
          })
        ).runId,
      })
    ).run!.id;
    const lonely = await startServer(
      { port: 0, host: "127.0.0.1", databaseUrl: t.databaseUrl, adminKey: ADMIN_KEY, artifactDir: t.artifactDir },
      { logger: createLogger({ level: "silent" }), env: {} },
    );
    const client = createClient({ url: lonely.url, token: ADMIN_KEY, reconnectTimeoutMs: 1500 });
    const events = client.subscribe(RunUpdatedDocument, { runId, after: 0 });
    await events.next(); // connected: the run's current state
    const began = Date.now();
    const ended = events.next();
    await lonely.stop();
    const error = await ended.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(IcrlNetworkError);
    expect((error as Error).message).toMatch(/lost the connection to .* and could not reconnect within 1\.5 s/i);
    expect(Date.now() - began).toBeLessThan(15_000);
    await client.close();
  });
});

describe("icrl run watch", () => {
  it("follows a run through a server restart and exits 0 when it succeeds, each rollout once", { timeout: 120_000 }, async () => {
    const experimentId = (await t.admin.mutate(CreateExperimentDocument, { name: "watch-restart" })).createExperiment.id;
    const runId = (
      await t.admin.mutate(CreateRunDocument, { experimentId, name: "watched", config: { model: { path: "m.gguf" }, dataset: { id: datasetId } } })
    ).createRun.id;
    const workerToken = (await t.client(registrationKey).mutate(RegisterWorkerDocument, { name: "watch-w", capabilities: { backend: "cpu" } }))
      .registerWorker.token;
    const worker = t.client(workerToken);
    const claimed = (await worker.mutate(ClaimJobDocument, {})).claimJob!;
    expect(claimed.job.run?.id).toBe(runId);
    const jobId = claimed.job.id;
    const report = (step: number) => worker.mutate(ReportRolloutsDocument, { jobId, rollouts: [rollout(step, 0), rollout(step, 1)] });

    const child = spawnCli(["run", "watch", runId, "--json", "--from-start"], cliEnv(t.server.url, ADMIN_KEY));
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on("close", r));
    const out = jsonLines(child);
    await out.waitFor((l) => l.type === "snapshot");
    for (let step = 1; step <= 3; step++) await report(step);
    await out.waitFor((l) => l.type === "rollout" && l.rollout.step === 3);

    await stopServer();
    await startAgain();
    for (let step = 4; step <= 6; step++) await report(step);
    await worker.mutate(CompleteJobDocument, { jobId });
    expect(await exited, stderr).toBe(0);

    const lines = out.lines as any[];
    expect(lines.at(-1)).toEqual({ type: "end", status: "SUCCEEDED" });
    expect(lines.filter((l) => l.type === "rollout").map((l) => `${l.rollout.step}/${l.rollout.sampleIndex}`)).toEqual(
      [1, 2, 3, 4, 5, 6].flatMap((s) => [`${s}/0`, `${s}/1`]),
    );
  });
});
