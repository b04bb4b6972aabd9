// Resumable runs: a worker killed mid-step (SIGKILL), a cancelled run resumed with resumeRun, and
// forks of a finished run. Whatever happens, a run ends with every (step, group, sample) rollout
// exactly once, one point per metric key and step, and a step axis that never goes back: a restart
// continues from the last checkpoint and redoes only the steps after it.
import { spawn, type ChildProcess } from "node:child_process";
import { chmod, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CancelRunDocument,
  CreateApiKeyDocument,
  CreateDemonstrationSetDocument,
  CreateExperimentDocument,
  CreateRunDocument,
  ForkRunDocument,
  IcrlApiError,
  ResumeRunDocument,
  ArtifactsDocument,
  RunDocument,
} from "../../client-sdk/src/index.js";
import { createLogger } from "../../server/logger.js";
import { Worker } from "../../worker/runtime/worker.js";
import { startFaultProxy, type FaultProxy, type ProxiedRequest } from "../support/fault-proxy.js";
import { startTestServer, type TestServer } from "../support/server.js";
import {
  allMetricPoints,
  allRollouts,
  artifactSteps,
  cursorValue,
  lookupDemoSet,
  lookupRunConfig,
  rolloutKey,
  runJobs,
  setupLookup,
  waitFor,
  type LookupSetup,
  type MetricRow,
  type RolloutRow,
} from "./support.js";

const PROJECT_ROOT = path.resolve(import.meta.dirname, "..", "..");
const STEPS = 6;
const GROUPS = 2;
const SAMPLES = 4;

let t: TestServer;
let dir: string;
let setup: LookupSetup;
let workerToken: string;
let experimentId: string;
let demoSetId: string;
let child: ChildProcess | null = null;
let proxy: FaultProxy | null = null;
/** The run of the SIGKILL test, forked by the fork tests once it has finished. */
let killedRunId: string | null = null;

beforeAll(async () => {
  // A short lease so a killed worker's job is requeued within seconds.
  t = await startTestServer({ leaseSeconds: 4, reaperIntervalMs: 300 });
  dir = await mkdtemp(path.join(os.tmpdir(), "icrl-resume-"));
  await chmod(dir, 0o755);
  setup = await setupLookup(t, dir);
  workerToken = (await t.admin.mutate(CreateApiKeyDocument, { name: "trainers", role: "WORKER" })).createApiKey.secret;
  experimentId = (await t.admin.mutate(CreateExperimentDocument, { name: "resume" })).createExperiment.id;
  const demos = lookupDemoSet(setup);
  demoSetId = (await t.admin.mutate(CreateDemonstrationSetDocument, { input: { name: "lookup-resume", task: "QA", items: demos.items } }))
    .createDemonstrationSet.id;
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await proxy?.close();
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

/** 6 steps (2-shot, then 0-shot), a checkpoint every 2 steps, no validation (only the training split). */
function resumeConfig(overrides: Record<string, unknown> = {}) {
  return lookupRunConfig(setup, {
    dataset: { id: setup.datasetId, split: "train" },
    curriculum: {
      stages: [
        { shots: 2, steps: 3 },
        { shots: 0, steps: 3 },
      ],
    },
    demonstrations: { selection: "first", setId: demoSetId },
    warmStart: { steps: 2 },
    checkpointEvery: 2,
    ...overrides,
  });
}

async function createRun(name: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const run = await t.admin.mutate(CreateRunDocument, { experimentId, name, config: resumeConfig(overrides) });
  return run.createRun.id;
}

/** The worker's JSON log lines, to see which steps it ran and where it resumed. */
type LogLines = string[];

function inProcessWorker(name: string, options: { maxJobs?: number; heartbeatMs?: number; log?: LogLines } = {}): Worker {
  const lines = options.log;
  return new Worker({
    serverUrl: t.server.url,
    token: workerToken,
    name,
    threads: 1,
    gpu: false,
    dataDir: path.join(dir, name),
    allowPaths: [dir],
    pollMs: 100,
    maxJobs: options.maxJobs ?? 1,
    heartbeatMs: options.heartbeatMs,
    // Every boundary waits for its cancel check, however loaded the machine: the cancel test's bound
    // (the step in progress, no more) holds only for checks that are waited for.
    slowCheckMs: 600_000,
    logger: lines
      ? pino({ level: "info" }, { write: (line: string) => void lines.push(line) })
      : createLogger({ level: process.env.ICRL_TEST_LOG ?? "silent" }),
  });
}

/**
 * The training step a worker's request reports for (its rollouts, metric points, progress or artifact),
 * the highest if it carries several; null for requests about no step (claims, heartbeats).
 */
function reportedStep(req: ProxiedRequest): number | null {
  if (req.path.startsWith("/artifacts")) {
    const step = new URL(req.path, "http://proxy").searchParams.get("step");
    return step === null ? null : Number(step);
  }
  if (!req.body) return null;
  const { variables } = JSON.parse(req.body) as {
    variables?: { rollouts?: { step: number }[]; points?: { step: number }[]; progress?: { step?: number } };
  };
  const steps = [...(variables?.rollouts ?? []), ...(variables?.points ?? []), ...(variables?.progress ? [variables.progress] : [])]
    .map((r) => r.step)
    .filter((step): step is number => typeof step === "number");
  return steps.length ? Math.max(...steps) : null;
}

const records = (lines: LogLines) => lines.map((l) => JSON.parse(l) as { msg: string; step?: number; runId?: string });
/** Steps this worker trained (in order), per the training loop's "step done" log. */
const stepsRun = (lines: LogLines, runId?: string) =>
  records(lines)
    .filter((r) => r.msg === "step done" && (!runId || r.runId === runId))
    .map((r) => r.step!);
/** Checkpoint steps this worker restored before training. */
const resumedFrom = (lines: LogLines, runId?: string) =>
  records(lines)
    .filter((r) => r.msg === "resuming from checkpoint" && (!runId || r.runId === runId))
    .map((r) => r.step!);

/** Polls run.step until stopped: what a dashboard following the run sees. */
function watchRunStep(runId: string) {
  const seen: number[] = [];
  let watching = true;
  const loop = (async () => {
    while (watching) {
      seen.push((await runOf(runId)).step);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    seen,
    stop: async () => {
      watching = false;
      await loop;
      return seen;
    },
  };
}

async function runOf(id: string) {
  return (await t.admin.query(RunDocument, { id })).run!;
}

/**
 * The exactly-once contract of a finished run covering steps first..last: every (step, group,
 * sample) once, every metric key once per step, in cursor order with steps strictly increasing.
 */
async function expectCompleteRun(runId: string, first: number, last: number) {
  const steps = Array.from({ length: last - first + 1 }, (_, i) => first + i);
  const rollouts = await allRollouts(t.admin, runId);
  const expected = steps.flatMap((step) => Array.from({ length: GROUPS * SAMPLES }, (_, i) => `${step}/${Math.floor(i / SAMPLES)}/${i % SAMPLES}`));
  expect(rollouts.map(rolloutKey).sort()).toEqual(expected.sort());

  const points = await allMetricPoints(t.admin, runId);
  const stepsByKey = new Map<string, number[]>();
  for (const p of points) stepsByKey.set(p.key, [...(stepsByKey.get(p.key) ?? []), p.step]);
  expect(stepsByKey.size).toBeGreaterThan(10);
  for (const [key, keySteps] of stepsByKey) expect(keySteps, key).toEqual(steps);
  // The step axis never goes back: in cursor order, steps only grow.
  const axis = points.map((p) => p.step);
  expect(axis).toEqual([...axis].sort((a, b) => a - b));
  return { rollouts, points };
}

// biome-ignore lint/complexity/useMathMinMax: cursors are BigInts, which Math.max does not take
const maxCursor = (rows: { cursor: string }[]) => rows.reduce((m, r) => (cursorValue(r.cursor) > m ? cursorValue(r.cursor) : m), 0n);
const pointKey = (p: MetricRow) => `${p.key}@${p.step}`;
/** What a rollout says, without where and when it was stored. */
const rolloutContent = (r: RolloutRow) => ({ key: rolloutKey(r), questionId: r.questionId, shots: r.shots, segments: r.segments, reward: r.reward });

describe("resumable training runs", () => {
  it("a SIGKILLed worker's job is requeued and resumed from the last checkpoint, exactly once", { timeout: 900_000 }, async () => {
    const runId = await createRun("killed");
    // The worker reaches the server through a proxy that holds whatever it reports for step 4 or later,
    // so the kill below finds step 3 half-reported however long the signal takes to follow the poll
    // that saw it: a step of this tiny model can be shorter than a poll under load (one CI run found
    // step 4's rollouts stored at the kill). Held, they never arrive.
    proxy = await startFaultProxy(t.server.url, (req) => ((reportedStep(req) ?? 0) >= 4 ? "hold" : null));
    child = spawn(
      process.execPath,
      [
        path.join(PROJECT_ROOT, "bin/icrl.js"),
        "worker",
        "--server",
        proxy.url,
        "--token",
        workerToken,
        "--name",
        "to-kill",
        "--threads",
        "1",
        "--gpu",
        "cpu",
        "--data-dir",
        path.join(dir, "to-kill"),
        "--allow-path",
        dir,
        "--poll-ms",
        "100",
        "--log-level",
        "warn",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child!.once("exit", (code, signal) => resolve(signal ?? code)));

    // Checkpoint 2 is stored and step 3 is half-reported: rollouts yes, its checkpoint (step 4) no.
    await waitFor(
      "checkpoint 2 and rollouts of step 3",
      async () => {
        if (child!.exitCode !== null) throw new Error(`the worker exited early: ${stderr}`);
        const reported = await allRollouts(t.admin, runId);
        return reported.some((r) => r.step === 3) && (await artifactSteps(t.admin, runId, "CHECKPOINT")).includes(2);
      },
      600_000,
    );
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    // What the proxy passed on before the kill lands before the state at the kill is read.
    await waitFor("the requests passed on before the kill to be answered", async () => proxy!.pending === 0, 60_000);
    // Step 2's timings are logged after its checkpoint is stored. Drop them, as if the worker had died
    // in between: the checkpoint carries them, so the resumed run fills the gap.
    const late = new Set(["time/upload_s", "time/step_s"]);
    const db = new pg.Client({ connectionString: t.databaseUrl });
    await db.connect();
    try {
      const removed = await db.query("DELETE FROM metric_points WHERE run_id = $1 AND step = 2 AND key = ANY($2)", [runId, [...late]]);
      expect(removed.rowCount).toBe(2);
    } finally {
      await db.end();
    }

    const rolloutsAtKill = await allRollouts(t.admin, runId);
    const pointsAtKill = await allMetricPoints(t.admin, runId);
    expect(await artifactSteps(t.admin, runId, "CHECKPOINT")).toEqual([2]);
    expect(rolloutsAtKill.filter((r) => r.step <= 2)).toHaveLength(2 * GROUPS * SAMPLES);
    const lostStep3 = rolloutsAtKill.filter((r) => r.step === 3);
    expect(lostStep3.length).toBeGreaterThan(0);
    expect(Math.max(...rolloutsAtKill.map((r) => r.step))).toBe(3);

    // The lease runs out (nobody heartbeats it) and the server requeues the job, counting the attempt.
    const requeued = await waitFor(
      "the job to be requeued",
      async () => {
        const [job] = await runJobs(t.admin, runId);
        return job.status === "QUEUED" && job;
      },
      30_000,
    );
    expect(requeued.attempts).toBe(1);
    expect(requeued.error).toMatch(/lease expired/);
    expect((await runOf(runId)).status).toBe("QUEUED");

    const resumeLog: LogLines = [];
    const watch = watchRunStep(runId);
    await inProcessWorker("after-kill", { log: resumeLog }).run();
    const stepsSeen = await watch.stop();
    // The new worker restored checkpoint 2 and trained steps 3-6 only: nothing before the checkpoint
    // was redone, and the run's step never went back past it.
    expect(resumedFrom(resumeLog)).toEqual([2]);
    expect(stepsRun(resumeLog)).toEqual([3, 4, 5, 6]);
    expect(Math.min(...stepsSeen)).toBeGreaterThanOrEqual(2);

    const final = await runOf(runId);
    expect(final.error).toBeNull();
    expect(final.status).toBe("SUCCEEDED");
    expect(final.step).toBe(STEPS);
    const jobs = await runJobs(t.admin, runId);
    expect(jobs.map((j) => [j.status, j.attempts])).toEqual([["SUCCEEDED", 1]]);

    const { rollouts, points } = await expectCompleteRun(runId, 1, STEPS);
    // Steps 1-2 are exactly what the killed worker stored; step 3 was dropped and redone.
    const killCursor = maxCursor(rolloutsAtKill);
    const before = rolloutsAtKill.filter((r) => r.step <= 2);
    expect(
      rollouts
        .filter((r) => r.step <= 2)
        .map((r) => r.id)
        .sort(),
    ).toEqual(before.map((r) => r.id).sort());
    expect(rollouts.filter((r) => r.step >= 3).every((r) => cursorValue(r.cursor) > killCursor)).toBe(true);
    // The restore is exact: the redone step samples what the lost one did (same adapter, questions, seeds).
    const redone = new Map(rollouts.filter((r) => r.step === 3).map((r) => [rolloutKey(r), rolloutContent(r)]));
    for (const lost of lostStep3) expect(redone.get(rolloutKey(lost))).toEqual(rolloutContent(lost));

    // Metrics: steps 1-2 untouched (same values, same cursors); everything logged after the kill is
    // for step 3 onwards, so a chart following the cursor never goes back past the checkpoint.
    const pointCursorAtKill = maxCursor(pointsAtKill);
    const refilled = (p: MetricRow) => p.step === 2 && late.has(p.key);
    const early = (rows: MetricRow[]) =>
      rows
        .filter((p) => p.step <= 2 && !refilled(p))
        .map((p) => ({ k: pointKey(p), v: p.value, c: p.cursor }))
        .sort((a, b) => a.k.localeCompare(b.k));
    expect(early(points)).toEqual(early(pointsAtKill));
    expect(early(points).length).toBeGreaterThan(20);
    const logged = points.filter((p) => cursorValue(p.cursor) > pointCursorAtKill);
    // After the kill: step 2's timings from the checkpoint first, then steps 3 onwards.
    expect(
      logged
        .filter(refilled)
        .map((p) => p.key)
        .sort(),
    ).toEqual([...late].sort());
    expect(logged.filter(refilled).every((p) => p.value > 0)).toBe(true);
    expect(Math.min(...logged.filter((p) => !refilled(p)).map((p) => p.step))).toBe(3);

    expect(await artifactSteps(t.admin, runId, "CHECKPOINT")).toEqual([2, 4, 6]);
    expect(await artifactSteps(t.admin, runId, "ADAPTER")).toEqual([2, 4, 6]);
    killedRunId = runId;
  });

  it("a cancelled run stops after the step in progress, checkpoints there, and resumeRun continues it without redoing a step", {
    timeout: 900_000,
  }, async () => {
    // Checkpoints every 4 steps, the cancel sent as soon as step 1 is done: it lands between
    // checkpoints, so only the checkpoint taken on cancel lets resumeRun continue without redoing a step.
    // (The background heartbeat runs too, every ~1.3 s with this file's 4 s lease: spacing it out to
    // prove the boundary check alone lets the lease lapse during setup on a slow machine.)
    const runId = await createRun("cancelled", { checkpointEvery: 4 });
    const firstLog: LogLines = [];
    const first = inProcessWorker("before-cancel", { log: firstLog });
    const done = first.run();
    await waitFor("step 1 done", async () => stepsRun(firstLog).length >= 1, 600_000, 10);
    await t.admin.mutate(CancelRunDocument, { id: runId });
    // Steps finished when the cancel was stored: the one in progress (doneAtCancel + 1) may finish, no
    // later one may start, because the boundary after it asks the server after the cancel was stored.
    // This holds whatever the steps' length, so nothing here depends on the machine's speed.
    const doneAtCancel = stepsRun(firstLog).length;
    await done;

    const cancelled = await runOf(runId);
    expect(cancelled.status).toBe("CANCELLED");
    const stoppedAt = cancelled.step;
    expect(stoppedAt).toBeGreaterThanOrEqual(doneAtCancel);
    expect(stoppedAt).toBeLessThanOrEqual(doneAtCancel + 1);
    expect(stoppedAt, "the run must have steps left to resume").toBeLessThan(STEPS);
    const regularCheckpoints = (upTo: number) => [4].filter((s) => s <= upTo);
    expect(await artifactSteps(t.admin, runId, "CHECKPOINT")).toEqual([...new Set([...regularCheckpoints(stoppedAt), stoppedAt])]);
    const rolloutsAtCancel = await allRollouts(t.admin, runId);
    expect(Math.max(...rolloutsAtCancel.map((r) => r.step))).toBe(stoppedAt);
    expect(stepsRun(firstLog)).toEqual(Array.from({ length: stoppedAt }, (_, i) => i + 1));
    const pointsAtCancel = await allMetricPoints(t.admin, runId);

    const resumed = (await t.admin.mutate(ResumeRunDocument, { id: runId })).resumeRun;
    expect(resumed.status).toBe("QUEUED");
    const resumeLog: LogLines = [];
    const watch = watchRunStep(runId);
    await inProcessWorker("after-cancel", { log: resumeLog }).run();
    const stepsSeen = await watch.stop();
    expect(resumedFrom(resumeLog)).toEqual([stoppedAt]);
    expect(stepsRun(resumeLog)).toEqual(Array.from({ length: STEPS - stoppedAt }, (_, i) => stoppedAt + 1 + i));
    expect(Math.min(...stepsSeen)).toBeGreaterThanOrEqual(stoppedAt);

    const final = await runOf(runId);
    expect(final.error).toBeNull();
    expect(final.status).toBe("SUCCEEDED");
    expect(final.step).toBe(STEPS);
    expect((await runJobs(t.admin, runId)).map((j) => j.status)).toEqual(["CANCELLED", "SUCCEEDED"]);

    const { rollouts, points } = await expectCompleteRun(runId, 1, STEPS);
    // Nothing before the cancel was redone: the same rows, and only later steps were added.
    const kept = new Set(rolloutsAtCancel.map((r) => r.id));
    expect(rollouts.filter((r) => kept.has(r.id))).toHaveLength(rolloutsAtCancel.length);
    expect(rollouts.filter((r) => !kept.has(r.id)).every((r) => r.step > stoppedAt)).toBe(true);
    const keptPoints = new Set(pointsAtCancel.map((p) => p.cursor));
    expect(points.filter((p) => keptPoints.has(p.cursor))).toHaveLength(pointsAtCancel.length);
    expect(points.filter((p) => !keptPoints.has(p.cursor)).every((p) => p.step > stoppedAt)).toBe(true);
    // One checkpoint and adapter per checkpointed step: the one taken on cancel and the regular ones.
    const checkpointSteps = [...new Set([stoppedAt, 4, 6])].sort((a, b) => a - b);
    expect(await artifactSteps(t.admin, runId, "CHECKPOINT")).toEqual(checkpointSteps);
    expect(await artifactSteps(t.admin, runId, "ADAPTER")).toEqual(checkpointSteps);
  });

  it("a corrupt newest checkpoint: the resume falls back to the one before it, says so, and redoes only the steps since", {
    timeout: 900_000,
  }, async () => {
    const runId = await createRun("corrupt-checkpoint", { checkpointEvery: 2 });
    const firstLog: LogLines = [];
    const done = inProcessWorker("before-corruption", { log: firstLog }).run();
    await waitFor("step 3 done", async () => stepsRun(firstLog).length >= 3, 600_000, 10);
    await t.admin.mutate(CancelRunDocument, { id: runId });
    await done;
    const checkpoints = (await t.admin.query(ArtifactsDocument, { runId, kind: "CHECKPOINT" })).artifacts.sort((a, b) => a.step! - b.step!);
    // Step 2's regular checkpoint, and the one taken on cancel at step 3 or 4.
    expect(checkpoints.map((c) => c.step)).toEqual([2, (await runOf(runId)).step]);
    const [previous, newest] = checkpoints;

    // The newest checkpoint's bytes rot on the server's disk (same size, other content).
    const stored = path.join(t.artifactDir, "objects", newest.sha256.slice(0, 2), newest.sha256);
    await writeFile(stored, Buffer.alloc((await stat(stored)).size, 7));

    await t.admin.mutate(ResumeRunDocument, { id: runId });
    const resumeLog: LogLines = [];
    await inProcessWorker("after-corruption", { log: resumeLog }).run();
    const warning = records(resumeLog).find((r) => r.msg === "checkpoint unusable; falling back to the one before it") as
      | { step: number; problem: string; fallback: { step: number } }
      | undefined;
    expect(warning?.step).toBe(newest.step);
    expect(warning?.problem).toMatch(/^Checkpoint artifact .* downloaded with sha256 [0-9a-f]+, but the server recorded/);
    expect(warning?.fallback.step).toBe(previous.step);
    expect(resumedFrom(resumeLog)).toEqual([2]);
    expect(stepsRun(resumeLog)).toEqual([3, 4, 5, 6]);

    const final = await runOf(runId);
    expect(final.error).toBeNull();
    expect(final.status).toBe("SUCCEEDED");
    await expectCompleteRun(runId, 1, STEPS); // every step's rollouts and metrics once, the redone ones included
    expect(await artifactSteps(t.admin, runId, "CHECKPOINT")).toEqual([2, 4, 6]);
  });

  it("a learner SIGKILLed mid-run fails the attempt as a crash; the next attempt resumes from the last checkpoint, nothing lost or doubled", {
    timeout: 900_000,
  }, async () => {
    const runId = await createRun("learner-killed", { checkpointEvery: 2 });
    const log: LogLines = [];
    const done = inProcessWorker("learner-kill", { maxJobs: 2, log }).run();
    await waitFor("step 3 done", async () => stepsRun(log).length >= 3, 600_000, 10);
    const learnerPid = (records(log).find((r) => r.msg === "learner process ready") as { pid?: number } | undefined)?.pid;
    expect(learnerPid).toBeGreaterThan(0);
    const doneAtKill = stepsRun(log).length;
    process.kill(learnerPid!, "SIGKILL");
    await done;

    const final = await runOf(runId);
    expect(final.error).toBeNull();
    expect(final.status).toBe("SUCCEEDED");
    expect(final.step).toBe(STEPS);
    const jobs = await runJobs(t.admin, runId);
    expect(jobs.map((j) => [j.status, j.attempts])).toEqual([["SUCCEEDED", 1]]); // `attempts` counts the failed ones
    expect(records(log).filter((r) => r.msg === "job claimed")).toHaveLength(2);
    // The newest checkpoint when the learner died: the last even step done, or the step in progress
    // if it had just stored its checkpoint.
    const [from] = resumedFrom(log);
    expect(resumedFrom(log)).toHaveLength(1);
    expect(from % 2).toBe(0);
    expect(from).toBeGreaterThanOrEqual(doneAtKill - 1);
    expect(from).toBeLessThanOrEqual(doneAtKill + 1);
    const failed = records(log).find((r) => r.msg === "job failed") as { err?: string } | undefined;
    expect(failed?.err).toMatch(/^learner process exited unexpectedly \(signal SIGKILL\)/);
    await expectCompleteRun(runId, 1, STEPS);
  });

  it("forks continue the parent's step numbering from its checkpoint, with the patched config", { timeout: 900_000 }, async () => {
    expect(killedRunId, "the SIGKILL test's run").not.toBeNull();
    const parentId = killedRunId!;
    const parentRollouts = await allRollouts(t.admin, parentId);

    // A fork must be able to load its parent's learner state.
    const clash = await t.admin.mutate(ForkRunDocument, { id: parentId, name: "bad", step: 2, configPatch: { lora: { rank: 4 } } }).catch((e) => e);
    expect(clash).toBeInstanceOf(IcrlApiError);
    expect((clash as IcrlApiError).code).toBe("BAD_USER_INPUT");

    // Only the learning rate differs: step 3 starts from the parent's step-2 state.
    const lrFork = (await t.admin.mutate(ForkRunDocument, { id: parentId, name: "lr", step: 3, configPatch: { grpo: { lr: 5e-4 }, maxSteps: 3 } }))
      .forkRun;
    expect(lrFork.parentRun?.id).toBe(parentId);
    expect(lrFork.forkStep).toBe(2);
    // A new curriculum: the fork's steps 3-4 fall in its second stage (1 shot).
    const curriculumFork = (
      await t.admin.mutate(ForkRunDocument, {
        id: parentId,
        name: "one-shot",
        step: 2,
        configPatch: {
          curriculum: {
            stages: [
              { shots: 2, steps: 2 },
              { shots: 1, steps: 2 },
            ],
          },
        },
      })
    ).forkRun;
    expect(curriculumFork.forkStep).toBe(2);

    const forkLog: LogLines = [];
    await inProcessWorker("forks", { maxJobs: 2, log: forkLog }).run();
    // Both forks restored the parent's step-2 checkpoint and trained only their own steps.
    expect(resumedFrom(forkLog, lrFork.id)).toEqual([2]);
    expect(stepsRun(forkLog, lrFork.id)).toEqual([3]);
    expect(resumedFrom(forkLog, curriculumFork.id)).toEqual([2]);
    expect(stepsRun(forkLog, curriculumFork.id)).toEqual([3, 4]);

    const lr = await runOf(lrFork.id);
    expect(lr.error).toBeNull();
    expect(lr.status).toBe("SUCCEEDED");
    expect(lr.step).toBe(3);
    const lrData = await expectCompleteRun(lrFork.id, 3, 3);
    // Same state, same seeds: the fork's first step samples exactly what the parent's step 3 did.
    const parentStep3 = parentRollouts.filter((r) => r.step === 3).map(rolloutContent);
    expect(lrData.rollouts.map(rolloutContent).sort((a, b) => a.key.localeCompare(b.key))).toEqual(
      parentStep3.sort((a, b) => a.key.localeCompare(b.key)),
    );
    expect(lrData.points.find((p) => p.key === "learner/lr")?.value).toBeCloseTo(5e-4, 10);
    expect(await artifactSteps(t.admin, lrFork.id, "CHECKPOINT")).toEqual([3]);

    const oneShot = await runOf(curriculumFork.id);
    expect(oneShot.error).toBeNull();
    expect(oneShot.status).toBe("SUCCEEDED");
    expect(oneShot.step).toBe(4);
    const oneShotData = await expectCompleteRun(curriculumFork.id, 3, 4);
    expect(new Set(oneShotData.rollouts.map((r) => `${r.stage}/${r.shots}`))).toEqual(new Set(["1/1"]));
    expect(oneShotData.points.filter((p) => p.key === "curriculum/shots").map((p) => p.value)).toEqual([1, 1]);

    // The parent is untouched by its forks.
    expect((await allRollouts(t.admin, parentId)).map((r) => r.id).sort()).toEqual(parentRollouts.map((r) => r.id).sort());
  });
});
