// The worker protocol against a real server: exactly-once leasing under concurrency, lease expiry,
// idempotent batches, limits, and the scope of worker tokens.
import { describe, expect, it } from "vitest";
import {
  ClaimJobDocument,
  CompleteJobDocument,
  FailJobDocument,
  HeartbeatDocument,
  JobsDocument,
  LogMetricsDocument,
  MetricSeriesDocument,
  ReportRolloutsDocument,
  RolloutsDocument,
  RunDocument,
  CancelRunDocument,
  MetricPointsDocument,
  ReleaseJobDocument,
  ReportBenchmarkItemsDocument,
  StartBenchmarkRunDocument,
} from "../../client-sdk/src/index.js";
import { EvalClaimContextSchema, TrainClaimContextSchema, describeIssues } from "../../contracts/index.js";
import { codeOf, useWorkerProtocolServer } from "./worker-protocol-setup.js";
import { makeRollout } from "../support/fixtures.js";

const wp = useWorkerProtocolServer();
const { newWorker, newRun } = wp;

describe("claiming", () => {
  it("8 concurrent workers claiming 50 jobs lease each exactly once", async () => {
    const runIds = await Promise.all(Array.from({ length: 50 }, (_, i) => newRun(`c-${i}`)));
    const workers = await Promise.all(Array.from({ length: 8 }, (_, i) => newWorker(`w${i}`)));
    const claimed: string[][] = workers.map(() => []);
    await Promise.all(
      workers.map(async (w, i) => {
        for (;;) {
          const res = await w.mutate(ClaimJobDocument, { kinds: ["TRAIN"] });
          if (!res.claimJob) break;
          claimed[i].push(res.claimJob.job.run!.id);
          expect((res.claimJob.context as any).run.id).toBe(res.claimJob.job.run!.id);
        }
      }),
    );
    const all = claimed.flat();
    expect(all.length).toBe(50);
    expect(new Set(all)).toEqual(new Set(runIds));
    expect(claimed.filter((c) => c.length > 0).length).toBeGreaterThan(1);
    const leased = await wp.t.admin.query(JobsDocument, { status: ["LEASED"], first: 100 });
    expect(leased.jobs.totalCount).toBe(50);
    const run = await wp.t.admin.query(RunDocument, { id: runIds[0] });
    expect(run.run?.status).toBe("RUNNING");
    // Finish them so later tests see an empty queue.
    for (const [i, w] of workers.entries()) {
      for (const runId of claimed[i]) {
        const job = leased.jobs.nodes.find((j) => j.run?.id === runId)!;
        await w.mutate(CompleteJobDocument, { jobId: job.id });
      }
    }
    expect((await wp.t.admin.query(RunDocument, { id: runIds[0] })).run?.status).toBe("SUCCEEDED");
  });

  it("matches capabilities: a GPU job waits for a GPU worker", async () => {
    const runId = await newRun("gpu-run", { requirements: { backend: "cuda", minGpuMemoryMb: 20000 } });
    const cpu = await newWorker("cpu-only");
    expect((await cpu.mutate(ClaimJobDocument, {})).claimJob).toBeNull();
    const small = await newWorker("small-gpu", { backend: "cuda", gpuMemoryMb: 8000 });
    expect((await small.mutate(ClaimJobDocument, {})).claimJob).toBeNull();
    const big = await newWorker("big-gpu", { backend: "cuda", gpuMemoryMb: 80000 });
    const got = await big.mutate(ClaimJobDocument, {});
    expect(got.claimJob?.job.run?.id).toBe(runId);
    await big.mutate(CompleteJobDocument, { jobId: got.claimJob!.job.id });
  });
});

describe("leases", () => {
  it("fails the job after maxAttempts failed attempts", async () => {
    const runId = await newRun("flaky");
    const w = await newWorker("flaky-worker");
    for (let attempt = 1; attempt <= 3; attempt++) {
      const c = (await w.mutate(ClaimJobDocument, {})).claimJob!;
      expect(c.job.run?.id).toBe(runId);
      const f = await w.mutate(FailJobDocument, { jobId: c.job.id, error: `boom ${attempt}`, retry: true });
      expect(f.failJob.status).toBe(attempt < 3 ? "QUEUED" : "FAILED");
    }
    const run = await wp.t.admin.query(RunDocument, { id: runId });
    expect(run.run?.status).toBe("FAILED");
    expect(run.run?.error).toBe("boom 3");
  });

  it("cancel reaches the worker through its heartbeat", async () => {
    const runId = await newRun("cancel-me");
    const w = await newWorker("cancel-worker");
    const c = (await w.mutate(ClaimJobDocument, {})).claimJob!;
    await wp.t.admin.mutate(CancelRunDocument, { id: runId });
    expect((await w.mutate(HeartbeatDocument, { jobId: c.job.id })).heartbeat.cancelled).toBe(true);
    const done = await w.mutate(CompleteJobDocument, { jobId: c.job.id });
    expect(done.completeJob.status).toBe("CANCELLED");
    expect((await wp.t.admin.query(RunDocument, { id: runId })).run?.status).toBe("CANCELLED");
  });
});

describe("batches", () => {
  it("retried rollout and metric batches create no duplicates", async () => {
    const runId = await newRun("batches");
    const w = await newWorker("batcher");
    const jobId = (await w.mutate(ClaimJobDocument, {})).claimJob!.job.id;
    const batch = Array.from({ length: 16 }, (_, i) => makeRollout(1, Math.floor(i / 8), i % 8));
    const first = await w.mutate(ReportRolloutsDocument, { jobId, rollouts: batch });
    expect(first.reportRollouts).toMatchObject({ inserted: 16, duplicates: 0 });
    const retry = await w.mutate(ReportRolloutsDocument, { jobId, rollouts: batch });
    expect(retry.reportRollouts).toMatchObject({ inserted: 0, duplicates: 16 });
    const mixed = await w.mutate(ReportRolloutsDocument, { jobId, rollouts: [...batch.slice(0, 4), makeRollout(2, 0, 0)] });
    expect(mixed.reportRollouts).toMatchObject({ inserted: 1, duplicates: 4 });
    const stored = await wp.t.admin.query(RolloutsDocument, { runId, first: 100 });
    expect(stored.rollouts.totalCount).toBe(17);
    const withTools = await wp.t.admin.query(RolloutsDocument, { runId, filter: { hasToolCall: true, minStep: 1, maxStep: 1 } });
    expect(withTools.rollouts.totalCount).toBe(batch.filter((r) => r.toolCallsValid > 0).length);
    const rewardy = await wp.t.admin.query(RolloutsDocument, { runId, filter: { minReward: 0.5 } });
    expect(rewardy.rollouts.nodes.every((r) => r.reward >= 0.5)).toBe(true);

    const points = Array.from({ length: 30 }, (_, i) => ({ key: i % 2 ? "reward/mean" : "accuracy/mean", step: Math.floor(i / 2), value: i / 30 }));
    expect((await w.mutate(LogMetricsDocument, { jobId, points })).logMetrics.inserted).toBe(30);
    expect((await w.mutate(LogMetricsDocument, { jobId, points })).logMetrics).toMatchObject({ inserted: 0, duplicates: 30 });
    const raw = await wp.t.admin.query(MetricPointsDocument, { runId, keys: ["reward/mean"] });
    expect(raw.metricPoints.nodes).toHaveLength(15);
    const series = await wp.t.admin.query(MetricSeriesDocument, { runId, keys: ["reward/mean", "accuracy/mean"], maxPoints: 100 });
    expect(series.metricSeries.map((s) => s.totalPoints)).toEqual([15, 15]);
    expect(series.metricSeries[0].downsampled).toBe(false);
    await w.mutate(CompleteJobDocument, { jobId });
  });

  it("stores rollout text exactly (NUL and lone surrogates as U+FFFD), in batches of any size", async () => {
    const runId = await newRun("text");
    const w = await newWorker("text");
    const jobId = (await w.mutate(ClaimJobDocument, {})).claimJob!.job.id;
    const sent = [
      "plain ascii",
      "NUL \u0000 inside",
      "cut pair \ud83d end",
      "low half alone \udc00",
      "emoji \u{1f600}, é, ü, 中文",
      "backslashes then u0000: \\u0000 \\\\u0000 \\ud83d",
      'quote " newline \n tab \t',
    ];
    const stored = [
      "plain ascii",
      "NUL \uFFFD inside",
      "cut pair \uFFFD end",
      "low half alone \uFFFD",
      "emoji \u{1f600}, é, ü, 中文",
      "backslashes then u0000: \\u0000 \\\\u0000 \\ud83d",
      'quote " newline \n tab \t',
    ];
    // Floats that only survive a shortest-round-trip path unchanged.
    const reward = (i: number) => (i + 1) / 3 + 0.1 + 0.2;
    const advantage = (i: number) => (-(i + 1) * 1e-7) / 3;
    const tricky = sent.map((text, i) => ({
      ...makeRollout(0, 0, i),
      questionId: text,
      segments: [
        { kind: "MODEL" as const, text },
        { kind: "TOOL_RESULT" as const, text: `${text}!` },
      ],
      reward: reward(i),
      advantage: advantage(i),
    }));
    // Over 1 MB, more than the server's reusable encoding buffer holds.
    const big = Array.from({ length: 60 }, (_, i) => makeRollout(1, 0, i, 24_000));
    expect((await w.mutate(ReportRolloutsDocument, { jobId, rollouts: tricky })).reportRollouts.inserted).toBe(sent.length);
    expect((await w.mutate(ReportRolloutsDocument, { jobId, rollouts: big })).reportRollouts.inserted).toBe(big.length);
    // Concurrent batches, so several encodings are alive at once.
    const more = await Promise.all(
      Array.from({ length: 6 }, (_, g) =>
        w.mutate(ReportRolloutsDocument, { jobId, rollouts: Array.from({ length: 20 }, (_, i) => makeRollout(2, g, i)) }),
      ),
    );
    expect(more.map((r) => r.reportRollouts.inserted)).toEqual([20, 20, 20, 20, 20, 20]);

    const back = (await wp.t.admin.query(RolloutsDocument, { runId, first: 100, filter: { minStep: 0, maxStep: 0 } })).rollouts.nodes;
    back.sort((a, b) => a.sampleIndex - b.sampleIndex);
    expect(back.map((r) => r.questionId)).toEqual(stored);
    expect(back.map((r) => r.segments.map((s) => s.text))).toEqual(stored.map((text) => [text, `${text}!`]));
    expect(back.map((r) => [r.reward, r.advantage])).toEqual(sent.map((_, i) => [reward(i), advantage(i)]));
    const bigBack = (await wp.t.admin.query(RolloutsDocument, { runId, first: 100, filter: { minStep: 1, maxStep: 1 } })).rollouts.nodes;
    bigBack.sort((a, b) => a.sampleIndex - b.sampleIndex);
    expect(bigBack.map((r) => r.segments)).toEqual(big.map((r) => r.segments));
    const all = (await wp.t.admin.query(RolloutsDocument, { runId, first: 200, filter: { minStep: 2, maxStep: 2 } })).rollouts;
    expect(all.totalCount).toBe(120);
    for (const r of all.nodes) expect(r.segments).toEqual(makeRollout(2, r.groupIndex, r.sampleIndex).segments);
    await w.mutate(CompleteJobDocument, { jobId });
  });

  it("rejects oversize and malformed batches with codes and stores nothing", async () => {
    const runId = await newRun("limits");
    const w = await newWorker("limits");
    const jobId = (await w.mutate(ClaimJobDocument, {})).claimJob!.job.id;
    const tooMany = Array.from({ length: 1001 }, (_, i) => ({ key: "k", step: i, value: 1 }));
    expect(await codeOf(w.mutate(LogMetricsDocument, { jobId, points: tooMany }))).toBe("PAYLOAD_TOO_LARGE");
    const huge = Array.from({ length: 10 }, (_, i) => makeRollout(0, 0, i, 600_000));
    expect(await codeOf(w.mutate(ReportRolloutsDocument, { jobId, rollouts: huge }))).toBe("PAYLOAD_TOO_LARGE");
    expect(
      await codeOf(
        w.mutate(ReportRolloutsDocument, { jobId, rollouts: [{ ...makeRollout(0, 0, 0), segments: [{ kind: "NOPE" as never, text: "" }] }] }),
      ),
    ).toBe("BAD_USER_INPUT");
    // A raw malformed body.
    const res = await fetch(`${wp.t.server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer x" },
      body: "{not json",
    });
    expect(res.status).toBe(400);
    expect((await res.json()).errors[0].extensions.code).toBe("BAD_REQUEST");
    const big = await fetch(`${wp.t.server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "{ viewer { role } }", variables: { pad: "x".repeat(9 * 1024 * 1024) } }),
    });
    expect(big.status).toBe(413);
    expect((await big.json()).errors[0].extensions.code).toBe("PAYLOAD_TOO_LARGE");
    expect((await wp.t.admin.query(RolloutsDocument, { runId })).rollouts.totalCount).toBe(0);
    expect((await wp.t.admin.query(MetricPointsDocument, { runId })).metricPoints.nodes).toHaveLength(0);
    await w.mutate(CompleteJobDocument, { jobId });
  });
});

// The worker validates every claim context with these schemas: what the server sends must pass.
describe("claim contexts", () => {
  const parses = (schema: typeof TrainClaimContextSchema | typeof EvalClaimContextSchema, context: unknown) => {
    const parsed = schema.safeParse(context);
    return parsed.success ? "ok" : describeIssues(parsed.error);
  };

  it("TRAIN and EVAL contexts (also after a resume) satisfy the contracts", async () => {
    const runId = await newRun("contract-train");
    const w = await newWorker("contract-worker");
    const train = (await w.mutate(ClaimJobDocument, { kinds: ["TRAIN"] })).claimJob!;
    expect(train.job.run?.id).toBe(runId);
    expect(parses(TrainClaimContextSchema, train.context)).toBe("ok");
    await w.mutate(CompleteJobDocument, { jobId: train.job.id });

    await wp.t.admin.mutate(StartBenchmarkRunDocument, {
      input: { name: "contract-eval", datasetId: wp.datasetId, model: "m.gguf", config: { limit: 3 } },
    });
    const first = (await w.mutate(ClaimJobDocument, { kinds: ["EVAL"] })).claimJob!;
    expect(parses(EvalClaimContextSchema, first.context)).toBe("ok");
    const item = { itemId: "q0", question: "q", prediction: "p", golds: ["g"], score: 1, metrics: { em: 1 }, trajectory: [] };
    await w.mutate(ReportBenchmarkItemsDocument, { jobId: first.job.id, items: [{ ...item, itemIndex: 0 }] });
    await w.mutate(ReleaseJobDocument, { jobId: first.job.id });
    const resumed = (await w.mutate(ClaimJobDocument, { kinds: ["EVAL"] })).claimJob!;
    expect(resumed.job.id).toBe(first.job.id);
    expect(parses(EvalClaimContextSchema, resumed.context)).toBe("ok");
    expect(EvalClaimContextSchema.parse(resumed.context).completedItems).toEqual([{ itemIndex: 0, score: 1, metrics: { em: 1 } }]);
    await w.mutate(CompleteJobDocument, { jobId: resumed.job.id });
  });
});
