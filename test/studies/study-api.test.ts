// Studies through the real server and a real worker: 2 arms x 2 seeds of the lookup task on a tiny
// model. The server's summaries must equal what this test recomputes from each run's own metric
// points (mean, 95% t-interval, paired difference and p-value), with the t quantile and the paired
// p-value for one degree of freedom written out here (the Cauchy distribution) rather than taken
// from the library the server uses.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CancelStudyDocument,
  CreateApiKeyDocument,
  CreateExperimentDocument,
  CreateStudyDocument,
  type CreateStudyInput,
  IcrlApiError,
  RunsDocument,
  StudiesDocument,
  StudyCurvesDocument,
  StudyDocument,
  StudySummaryDocument,
  StudyUpdatedDocument,
} from "../../client-sdk/src/index.js";
import { createLogger } from "../../server/logger.js";
import { Worker } from "../../worker/runtime/worker.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { allMetricPoints, setupLookup, type LookupSetup } from "../training/support.js";
import { createLookupDemoSet, studyBaseConfig } from "./support.js";

/** t(0.975) with 1 degree of freedom: tan(0.475 * pi). */
const T_975_DF1 = Math.tan(0.475 * Math.PI);
/** Two-sided p-value of a t statistic with 1 degree of freedom. */
const pValueDf1 = (t: number) => 1 - (2 / Math.PI) * Math.atan(Math.abs(t));

let t: TestServer;
let dir: string;
let setup: LookupSetup;
let experimentId: string;
let demoSetId: string;

beforeAll(async () => {
  t = await startTestServer();
  dir = await mkdtemp(path.join(os.tmpdir(), "icrl-study-"));
  await chmod(dir, 0o755);
  setup = await setupLookup(t, dir);
  experimentId = (await t.admin.mutate(CreateExperimentDocument, { name: "studies" })).createExperiment.id;
  demoSetId = await createLookupDemoSet(t, setup, "lookup-study");
}, 120_000);

afterAll(async () => {
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

function baseConfig() {
  return studyBaseConfig(setup, demoSetId);
}

async function studyError(input: CreateStudyInput) {
  const err = await t.admin.mutate(CreateStudyDocument, { input }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(IcrlApiError);
  return err as IcrlApiError;
}

describe("createStudy rejects bad input and creates nothing", () => {
  it("names the arm and path of a patch that breaks the config", async () => {
    const before = (await t.admin.query(RunsDocument, { filter: { experimentId } })).runs.totalCount;
    const err = await studyError({
      experimentId,
      name: "broken",
      baseConfig: baseConfig(),
      arms: [{ name: "ok" }, { name: "bad-lr", patch: { grpo: { lr: 5 } } }, { name: "bad-temp", patch: { rollout: { temperature: -1 } } }],
      seeds: [1, 2],
    });
    expect(err.code).toBe("BAD_USER_INPUT");
    const paths = err.fieldErrors.map((f) => f.path);
    expect(paths).toContain("arms.bad-lr.grpo.lr");
    expect(paths.some((p) => p === "arms.bad-temp.rollout.temperature")).toBe(true);
    expect(paths.some((p) => p.startsWith("arms.ok"))).toBe(false);
    expect((await t.admin.query(RunsDocument, { filter: { experimentId } })).runs.totalCount).toBe(before);
    expect((await t.admin.query(StudiesDocument, { experimentId })).studies.totalCount).toBe(0);
  });

  it("zero seeds, duplicate arm names and an unknown baseline are coded errors", async () => {
    const base = { experimentId, name: "x", baseConfig: baseConfig() };
    const noSeeds = await studyError({ ...base, arms: [{ name: "a" }], seeds: [] });
    expect(noSeeds.fieldErrors.map((f) => f.path)).toEqual(["seeds"]);
    const dup = await studyError({ ...base, arms: [{ name: "a" }, { name: "a" }], seeds: [1] });
    expect(dup.fieldErrors).toEqual([{ path: "arms.1.name", message: expect.stringContaining("duplicate arm name") }]);
    const baseline = await studyError({ ...base, arms: [{ name: "a" }], seeds: [1], baselineArm: "b" });
    expect(baseline.fieldErrors).toEqual([{ path: "baselineArm", message: expect.stringContaining('no arm is named "b"') }]);
    const dataset = await studyError({
      ...base,
      arms: [{ name: "a", patch: { dataset: { id: "00000000-0000-4000-8000-000000000000" } } }],
      seeds: [1],
    });
    expect(dataset.fieldErrors[0].path).toBe("arms.a.dataset.id");
    for (const e of [noSeeds, dup, baseline, dataset]) expect(e.code).toBe("BAD_USER_INPUT");
    expect((await t.admin.query(StudiesDocument, { experimentId })).studies.totalCount).toBe(0);
  });
});

describe("a 2 x 2 study on a real worker", () => {
  it("runs every cell and summarizes exactly what the runs logged", { timeout: 600_000 }, async () => {
    const created = await t.admin.mutate(CreateStudyDocument, {
      input: {
        experimentId,
        name: "lr",
        description: "does a larger learning rate help?",
        baseConfig: baseConfig(),
        arms: [{ name: "base" }, { name: "high-lr", patch: { grpo: { lr: 1e-2 } } }],
        seeds: [7, 8],
      },
    });
    const study = created.createStudy;
    expect(study.status).toBe("QUEUED");
    expect(study.baselineArm).toBe("base");
    expect(study.progress).toMatchObject({ total: 4, queued: 4 });
    const dupe = await studyError({ experimentId, name: "lr", baseConfig: baseConfig(), arms: [{ name: "a" }], seeds: [1] });
    expect(dupe.code).toBe("CONFLICT");

    // Live: watch the study from the start while the worker runs it.
    const events: { cursor: bigint; status: string; succeeded: number }[] = [];
    const watching = (async () => {
      for await (const e of t.admin.subscribe(StudyUpdatedDocument, { studyId: study.id })) {
        events.push({
          cursor: BigInt(e.studyUpdated.cursor),
          status: e.studyUpdated.study.status,
          succeeded: e.studyUpdated.study.progress.succeeded,
        });
        if (["SUCCEEDED", "FAILED", "CANCELLED"].includes(e.studyUpdated.study.status)) return;
      }
    })();

    const token = (await t.admin.mutate(CreateApiKeyDocument, { name: "study-worker", role: "WORKER" })).createApiKey.secret;
    const worker = new Worker({
      serverUrl: t.server.url,
      token,
      name: "study-worker",
      threads: 1,
      gpu: false,
      dataDir: path.join(dir, "worker"),
      allowPaths: [dir],
      pollMs: 100,
      maxJobs: 4,
      logger: createLogger({ level: process.env.ICRL_TEST_LOG ?? "silent" }),
    });
    await worker.run();
    await watching;

    const done = (await t.admin.query(StudyDocument, { id: study.id })).study!;
    expect(done.status).toBe("SUCCEEDED");
    expect(done.runs.map((r) => [r.arm, r.seed, r.status])).toEqual([
      ["base", 7, "SUCCEEDED"],
      ["base", 8, "SUCCEEDED"],
      ["high-lr", 7, "SUCCEEDED"],
      ["high-lr", 8, "SUCCEEDED"],
    ]);
    expect(done.metricKeys).toContain("val/accuracy");
    // Cursors only grow, and the stream saw the study finish.
    expect(events.map((e) => e.cursor)).toEqual([...events.map((e) => e.cursor)].sort((a, b) => (a < b ? -1 : 1)));
    expect(new Set(events.map((e) => e.cursor)).size).toBe(events.length);
    expect(events.at(-1)).toMatchObject({ status: "SUCCEEDED", succeeded: 4 });

    // Each run's own points, read back through the ordinary run API.
    const metric = "reward/mean";
    const points = new Map<string, { step: number; value: number }[]>();
    for (const r of done.runs)
      points.set(
        r.id,
        (await allMetricPoints(t.admin, r.id)).filter((p) => p.key === metric),
      );
    const finalOf = (runId: string) => points.get(runId)!.reduce((a, b) => (b.step > a.step ? b : a));
    const finalValue = (arm: string, seed: number) => finalOf(done.runs.find((r) => r.arm === arm && r.seed === seed)!.id).value;

    const summary = (await t.admin.query(StudySummaryDocument, { id: study.id, metric })).study!.summary;
    expect(summary.confidence).toBe(0.95);
    expect(summary.method).toMatch(/Student-t/);
    for (const arm of summary.arms) {
      const values = [7, 8].map((s) => finalValue(arm.arm, s));
      expect(arm.values.map((v) => [v.seed, v.value, v.final])).toEqual([
        [7, values[0], true],
        [8, values[1], true],
      ]);
      const mean = (values[0] + values[1]) / 2;
      const sd = Math.abs(values[0] - values[1]) / Math.SQRT2;
      expect(arm.n).toBe(2);
      expect(arm.mean).toBeCloseTo(mean, 12);
      expect(arm.sd).toBeCloseTo(sd, 12);
      expect(arm.ciLow).toBeCloseTo(mean - (T_975_DF1 * sd) / Math.SQRT2, 9);
      expect(arm.ciHigh).toBeCloseTo(mean + (T_975_DF1 * sd) / Math.SQRT2, 9);
    }
    const [diff] = summary.differences;
    expect(diff).toMatchObject({ arm: "high-lr", baseline: "base", pairs: 2, seeds: [7, 8] });
    const d = [7, 8].map((s) => finalValue("high-lr", s) - finalValue("base", s));
    const dMean = (d[0] + d[1]) / 2;
    const dSe = Math.abs(d[0] - d[1]) / 2;
    expect(diff.meanDiff).toBeCloseTo(dMean, 12);
    if (dSe > 0) {
      expect(diff.ciLow).toBeCloseTo(dMean - T_975_DF1 * dSe, 9);
      expect(diff.ciHigh).toBeCloseTo(dMean + T_975_DF1 * dSe, 9);
      expect(diff.pValue).toBeCloseTo(pValueDf1(dMean / dSe), 9);
    } else {
      expect(diff.pValue).toBeNull();
    }

    // BEST and STEP pick other points of the same series.
    const best = (await t.admin.query(StudySummaryDocument, { id: study.id, metric, at: "BEST" })).study!.summary;
    for (const arm of best.arms) for (const v of arm.values) expect(v.value).toBe(Math.max(...points.get(v.run.id)!.map((p) => p.value)));
    const at1 = (await t.admin.query(StudySummaryDocument, { id: study.id, metric, at: "STEP", step: 1 })).study!.summary;
    for (const arm of at1.arms)
      for (const v of arm.values) expect([v.step, v.value]).toEqual([1, points.get(v.run.id)!.find((p) => p.step === 1)!.value]);

    // Curves: one point per step (3 steps), each the mean over both seeds; the stage change after step 1.
    const curves = (await t.admin.query(StudyCurvesDocument, { id: study.id, metric })).study!.curves;
    expect(curves.map((c) => c.arm)).toEqual(["base", "high-lr"]);
    for (const c of curves) {
      const runs = done.runs.filter((r) => r.arm === c.arm);
      expect(c.points.map((p) => p.step)).toEqual([1, 2, 3]);
      for (const p of c.points) {
        const vals = runs.map((r) => points.get(r.id)!.find((q) => q.step === p.step)!.value);
        expect(p.n).toBe(2);
        expect(p.mean).toBeCloseTo((vals[0] + vals[1]) / 2, 12);
      }
      expect(c.stageBoundaries).toEqual([{ stage: 1, step: 2 }]);
    }

    // Unknown baseline or a STEP without a step: coded errors.
    await expect(t.admin.query(StudySummaryDocument, { id: study.id, metric, baseline: "nope" })).rejects.toMatchObject({ code: "BAD_USER_INPUT" });
    await expect(t.admin.query(StudySummaryDocument, { id: study.id, metric, at: "STEP" })).rejects.toMatchObject({ code: "BAD_USER_INPUT" });
    // A finished study has nothing to cancel.
    await expect(t.admin.mutate(CancelStudyDocument, { id: study.id })).rejects.toMatchObject({ code: "BAD_USER_INPUT" });
  });

  it("cancelStudy cancels the queued runs", async () => {
    const created = await t.admin.mutate(CreateStudyDocument, {
      input: { experimentId, name: "to-cancel", baseConfig: baseConfig(), arms: [{ name: "a" }, { name: "b" }], seeds: [1, 2, 3] },
    });
    const cancelled = (await t.admin.mutate(CancelStudyDocument, { id: created.createStudy.id })).cancelStudy;
    expect(cancelled.status).toBe("CANCELLED");
    expect(cancelled.progress).toMatchObject({ total: 6, cancelled: 6 });
    expect(cancelled.cancelledAt).not.toBeNull();
  });
});
