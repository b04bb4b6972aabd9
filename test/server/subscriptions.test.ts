// Subscriptions: events reach subscribers of either of two server processes on one database, and a
// client resuming with `after` gets exactly what it missed.
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateApiKeyDocument,
  type IcrlApiError,
  LiveCursorDocument,
  type LiveStream,
  LogMetricsDocument,
  MetricsAddedDocument,
  ReportRolloutsDocument,
  RolloutAddedDocument,
  RunUpdatedDocument,
  RunDocument,
  RolloutsDocument,
  ReportRunProgressDocument,
  createClient,
  type IcrlClient,
} from "../../client-sdk/src/index.js";
import type { RunningServer } from "../../server/main.js";
import { ADMIN_KEY, startTestServer, type TestServer } from "../support/server.js";
import { claimedTrainJob } from "../support/claimed-job.js";
import { makeRollout } from "../support/fixtures.js";

let t: TestServer;
let replica: RunningServer;
let worker: IcrlClient;
let runId: string;
let jobId: string;

/**
 * Collect n events, or fail after timeoutMs: the abort signal wakes a subscription that is waiting
 * for events, so a missed event fails the test quickly instead of hanging it.
 */
async function take<T>(subscribe: (signal: AbortSignal) => AsyncGenerator<T>, n: number, timeoutMs = 20_000): Promise<T[]> {
  const controller = new AbortController();
  const out: T[] = [];
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  for await (const v of subscribe(controller.signal)) {
    out.push(v);
    if (out.length >= n) break;
  }
  clearTimeout(timer);
  if (out.length < n) throw new Error(`got ${out.length} of ${n} events within ${timeoutMs} ms`);
  return out;
}

beforeAll(async () => {
  t = await startTestServer();
  replica = await t.startReplica();
  const tmp = await mkdtemp(path.join(os.tmpdir(), "icrl-sub-"));
  const claimed = await claimedTrainJob(t, tmp, "subs");
  runId = claimed.runId;
  jobId = claimed.jobId;
  worker = t.client(claimed.workerToken);
});

afterAll(async () => {
  await t?.close();
});

describe("rolloutAdded", () => {
  it("delivers writes made through one server to subscribers of the other", async () => {
    const onReplica = createClient({ url: replica.url, token: ADMIN_KEY });
    const onPrimary = t.client(ADMIN_KEY);
    const gotA = take((signal) => onReplica.subscribe(RolloutAddedDocument, { runId, after: "0" }, { signal }), 24);
    const gotB = take((signal) => onPrimary.subscribe(RolloutAddedDocument, { runId, filter: { hasToolCall: true }, after: "0" }, { signal }), 15);
    // after: "0" (the run has no rollouts yet) so events committed before a slow subscription
    // registers are replayed rather than missed; live delivery follows without a seam.
    await new Promise((r) => setTimeout(r, 300));
    for (let step = 0; step < 3; step++) {
      await worker.mutate(ReportRolloutsDocument, { jobId, rollouts: Array.from({ length: 8 }, (_, i) => makeRollout(step, 0, i)) });
    }
    const eventsA = await gotA;
    expect(eventsA.map((e) => `${e.rolloutAdded.rollout.step}/${e.rolloutAdded.rollout.sampleIndex}`)).toEqual(
      Array.from({ length: 24 }, (_, i) => `${Math.floor(i / 8)}/${i % 8}`),
    );
    const cursors = eventsA.map((e) => BigInt(e.rolloutAdded.cursor));
    expect(cursors.every((c, i) => i === 0 || c > cursors[i - 1])).toBe(true);
    const eventsB = await gotB;
    expect(eventsB.every((e) => e.rolloutAdded.rollout.toolCallsValid > 0)).toBe(true);
    expect(eventsB).toHaveLength(15);
    await onReplica.close();
  });

  it("a client that reconnects with `after` receives what it missed exactly once", async () => {
    const c1 = t.client(ADMIN_KEY);
    const tail = (await t.admin.query(RolloutsDocument, { runId, first: 1000 })).rollouts.nodes.at(-1)!.cursor;
    const firstTwo = take((signal) => c1.subscribe(RolloutAddedDocument, { runId, after: tail }, { signal }), 4);
    await new Promise((r) => setTimeout(r, 200));
    await worker.mutate(ReportRolloutsDocument, { jobId, rollouts: Array.from({ length: 4 }, (_, i) => makeRollout(10, 0, i)) });
    const seen = await firstTwo;
    const last = seen[seen.length - 1].rolloutAdded.cursor;
    await c1.close();
    // While disconnected: more rollouts, including a retried (duplicate) batch.
    await worker.mutate(ReportRolloutsDocument, { jobId, rollouts: Array.from({ length: 8 }, (_, i) => makeRollout(11, 0, i)) });
    await worker.mutate(ReportRolloutsDocument, { jobId, rollouts: Array.from({ length: 8 }, (_, i) => makeRollout(11, 0, i)) });
    const c2 = createClient({ url: replica.url, token: ADMIN_KEY });
    const missedAndLive = take((signal) => c2.subscribe(RolloutAddedDocument, { runId, after: last }, { signal }), 12);
    await new Promise((r) => setTimeout(r, 300));
    await worker.mutate(ReportRolloutsDocument, { jobId, rollouts: Array.from({ length: 4 }, (_, i) => makeRollout(12, 0, i)) });
    const got = await missedAndLive;
    expect(got.map((e) => `${e.rolloutAdded.rollout.step}/${e.rolloutAdded.rollout.sampleIndex}`)).toEqual([
      ...Array.from({ length: 8 }, (_, i) => `11/${i}`),
      ...Array.from({ length: 4 }, (_, i) => `12/${i}`),
    ]);
    await c2.close();
  });
});

describe("metricsAdded and runUpdated", () => {
  it("streams metric batches filtered by key and run progress", async () => {
    const c = t.client(ADMIN_KEY);
    const metrics = take((signal) => c.subscribe(MetricsAddedDocument, { runId, keys: ["reward/mean"], after: "0" }, { signal }), 2);
    const version = (await t.admin.query(RunDocument, { id: runId })).run!.version;
    const updates = take((signal) => c.subscribe(RunUpdatedDocument, { runId, after: version }, { signal }), 2);
    await new Promise((r) => setTimeout(r, 300));
    await worker.mutate(LogMetricsDocument, {
      jobId,
      points: [
        { key: "reward/mean", step: 1, value: 0.5 },
        { key: "kl", step: 1, value: 0.01 },
      ],
    });
    await worker.mutate(ReportRunProgressDocument, { jobId, progress: { step: 1, stage: 0, shots: 3 } });
    await worker.mutate(LogMetricsDocument, { jobId, points: [{ key: "reward/mean", step: 2, value: 0.75 }] });
    await worker.mutate(ReportRunProgressDocument, { jobId, progress: { step: 2 } });
    const m = await metrics;
    expect(m.flatMap((e) => e.metricsAdded.points.map((p) => [p.key, p.step, p.value]))).toEqual([
      ["reward/mean", 1, 0.5],
      ["reward/mean", 2, 0.75],
    ]);
    const u = await updates;
    expect(u.map((e) => e.runUpdated.run.step)).toEqual([1, 2]);
    expect(u[1].runUpdated.cursor).toBeGreaterThan(u[0].runUpdated.cursor);
  });
});

describe("liveCursor", () => {
  it("is where each stream ends now: the last event's cursor, the run's version; ids are checked", async () => {
    const admin = t.client(ADMIN_KEY);
    await worker.mutate(ReportRolloutsDocument, { jobId, rollouts: [makeRollout(50, 0, 0), makeRollout(50, 0, 1)] });
    await worker.mutate(LogMetricsDocument, { jobId, points: [{ key: "live/cursor", step: 50, value: 1 }] });
    const head = async (stream: LiveStream, id: string | null = runId) => (await admin.query(LiveCursorDocument, { stream, id })).liveCursor;

    // The whole stream replayed from the start: its last event carries the head.
    const total = (await admin.query(RolloutsDocument, { runId, first: 0 })).rollouts.totalCount;
    const rollouts = await take((signal) => admin.subscribe(RolloutAddedDocument, { runId, after: "0" }, { signal }), total);
    expect(await head("ROLLOUTS")).toBe(rollouts[total - 1].rolloutAdded.cursor);
    const metricsHead = await head("METRICS");
    const lastBatch = await take((signal) => admin.subscribe(MetricsAddedDocument, { runId, keys: ["live/cursor"], after: "0" }, { signal }), 1);
    expect(lastBatch[0].metricsAdded.cursor).toBe(metricsHead); // the newest point is the one just logged
    expect(Number(await head("RUN"))).toBe((await admin.query(RunDocument, { id: runId })).run!.version);

    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => "ok",
        (e: IcrlApiError) => e.code,
      );
    expect(await codeOf(head("ROLLOUTS", null))).toBe("BAD_USER_INPUT");
    expect(await codeOf(head("ROLLOUTS", "00000000-0000-0000-0000-000000000000"))).toBe("NOT_FOUND");
    expect(await codeOf(head("STUDY", "00000000-0000-0000-0000-000000000000"))).toBe("NOT_FOUND");
    const member = t.client((await t.admin.mutate(CreateApiKeyDocument, { name: "reader", role: "MEMBER" })).createApiKey.secret);
    expect(await codeOf(member.query(LiveCursorDocument, { stream: "JOBS" }))).toBe("FORBIDDEN"); // the jobs feed is the workers'
    expect(BigInt((await worker.query(LiveCursorDocument, { stream: "JOBS" })).liveCursor)).toBeGreaterThan(0n);
  });
});
