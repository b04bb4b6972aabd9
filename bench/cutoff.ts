// Fault matrix: a worker cut off from the server for two minutes while it trains; and what an
// unreachable or slow server costs a training step. A real Worker in its own process
// (bench/support/worker-child.ts) runs the TRAIN job (the job's own wiring: outbox streams,
// checkpoints stored in the background) and reaches a real server only through a TCP proxy
// (test/support/partition-proxy.ts) that, for CUT_S seconds after step 5:
// - none: does nothing (the baseline);
// - slow: passes every chunk on 500 ms late, both ways (ICRL_BENCH_CUT_DELAY_MS);
// - blackhole: stops all packets, refuses nothing; refuse: resets and refuses connections.
// The server's lease is longer than the cut, so the attempt goes on; the outbox's memory budget is
// small (ICRL_BENCH_CUT_OUTBOX_KIB, default 64 KiB) so that two minutes of reports spill to disk.
// Afterwards every rollout and metric point must be stored exactly once and the run must finish.
// Figures per mode: step time during the window (p50, mean, max, from the worker's "step done"
// log lines), steps done, the worker's resident memory and spilled bytes, and how long after the
// link came back the backlog took to arrive.
//
// The model is the lookup task's small untrained one (test/training/support.ts), so steps are short
// and many happen in the window; a checkpoint every 25 steps (ICRL_BENCH_CUT_CHECKPOINT_EVERY) falls
// inside it several times.
//
// ICRL_BENCH_CUT_S (default 120), ICRL_BENCH_CUT_MODES (default "none,slow,blackhole,refuse"),
// ICRL_BENCH_CUT_STEPS (run length, default 900: longer than the window at the baseline rate).
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { CreateApiKeyDocument, CreateExperimentDocument, CreateRunDocument, RunDocument } from "../client-sdk/src/index.js";
import { startTestServer, type TestServer } from "../test/support/server.js";
import { allMetricPoints, allRollouts, lookupRunConfig, rolloutKey, setupLookup, waitFor } from "../test/training/support.js";
import { forkBenchChild } from "./support/child.js";
import { type PartitionMode, startPartitionProxy } from "../test/support/partition-proxy.js";
import { progress, round } from "./support/stats.js";
import type { WorkerSample } from "./support/worker-child.js";

const CUT_S = Number(process.env.ICRL_BENCH_CUT_S ?? 120);
/** "none" is the baseline: the same run and the same wait with the link up; "slow" delays the link. */
type Mode = PartitionMode | "none" | "slow";
const MODES = (process.env.ICRL_BENCH_CUT_MODES ?? "none,slow,blackhole,refuse").split(",") as Mode[];
const DELAY_MS = Number(process.env.ICRL_BENCH_CUT_DELAY_MS ?? 500);
const STEPS = Number(process.env.ICRL_BENCH_CUT_STEPS ?? 900);
const OUTBOX_BYTES = Number(process.env.ICRL_BENCH_CUT_OUTBOX_KIB ?? 64) * 1024;
const CHECKPOINT_EVERY = Number(process.env.ICRL_BENCH_CUT_CHECKPOINT_EVERY ?? 25);
const STEPS_BEFORE_CUT = 5;

const lastLive = (list: WorkerSample[]) => list.filter((s) => s.liveHeapMiB !== null).at(-1)?.liveHeapMiB;

async function cutOnce(t: TestServer, mode: Mode): Promise<Record<string, number | string>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `icrl-bench-cutoff-${mode}-`));
  await chmod(dir, 0o755);
  const proxy = await startPartitionProxy(t.server.url);
  try {
    const setup = await setupLookup(t, dir);
    const experimentId = (await t.admin.mutate(CreateExperimentDocument, { name: `cutoff-${mode}` })).createExperiment.id;
    const config = lookupRunConfig(setup, { curriculum: { stages: [{ shots: 0, steps: STEPS }] }, checkpointEvery: CHECKPOINT_EVERY });
    const runId = (await t.admin.mutate(CreateRunDocument, { experimentId, name: mode, config })).createRun.id;
    const token = (await t.admin.mutate(CreateApiKeyDocument, { name: `cutoff-${mode}`, role: "WORKER" })).createApiKey.secret;
    const child = forkBenchChild(new URL("./support/worker-child.ts", import.meta.url).pathname, {
      url: proxy.url,
      token,
      dir,
      maxMemoryBytes: OUTBOX_BYTES,
      sampleMs: 500,
    });
    const samples: WorkerSample[] = [];
    let finished = false;
    const done = child
      .next<{ summary: { jobs: number; clean: boolean }; warnings: string[]; stepDoneAt: number[] }>("done")
      .finally(() => (finished = true));
    void (async () => {
      while (!finished) {
        const sample = await child.next<WorkerSample>("sample").catch(() => null);
        if (!sample) break; // the worker has exited
        samples.push(sample);
      }
    })();
    const latest = () => samples[samples.length - 1];
    await waitFor(`${STEPS_BEFORE_CUT} steps`, async () => (latest()?.steps ?? 0) >= STEPS_BEFORE_CUT, 600_000, 100);
    const before = latest();
    if (mode === "slow") proxy.delay(DELAY_MS);
    else if (mode !== "none") proxy.cut(mode);
    const cutAt = Date.now();
    progress(`cutoff ${mode}: cut after step ${before.steps} for ${CUT_S} s`);
    // The baseline may finish its run sooner than the cut lasts: its window ends there.
    await Promise.race([new Promise((r) => setTimeout(r, CUT_S * 1000)), done]);
    const windowS = (Date.now() - cutAt) / 1000;
    const during = samples.filter((s) => s.at >= cutAt);
    const atQuarter = during.find((s) => s.at >= cutAt + (CUT_S * 1000) / 4) ?? during[0];
    const atHeal = latest();
    const reachedLast = during.find((s) => s.steps === atHeal.steps) ?? atHeal;
    const trainedS = Math.max(0.001, Math.min(windowS, (reachedLast.at - cutAt) / 1000));
    const windowEnd = Date.now();
    proxy.delay(0);
    proxy.heal();
    const healedAt = Date.now();
    progress(`cutoff ${mode}: healed at step ${atHeal.steps}; spilled ${atHeal.spillBytes} bytes`);
    const result = await done;
    const doneAt = Date.now();
    const spillDrained = samples.find((s) => s.at >= healedAt && s.spillBytes === 0);
    await child.stop();

    const run = (await t.admin.query(RunDocument, { id: runId })).run!;
    if (run.status !== "SUCCEEDED") throw new Error(`run ended ${run.status}: ${run.error}`);
    const rollouts = await allRollouts(t.admin, runId);
    const keys = rollouts.map(rolloutKey);
    const perStep = config.grpo.groupSize * config.grpo.questionsPerStep;
    const expected = new Set(
      Array.from(
        { length: STEPS * perStep },
        (_, i) => `${Math.floor(i / perStep) + 1}/${Math.floor((i % perStep) / config.grpo.groupSize)}/${i % config.grpo.groupSize}`,
      ),
    );
    const duplicates = keys.length - new Set(keys).size;
    const missing = [...expected].filter((k) => !keys.includes(k)).length;
    const points = await allMetricPoints(t.admin, runId);
    const pointKeys = points.map((p) => `${p.key}@${p.step}`);
    const pointDuplicates = pointKeys.length - new Set(pointKeys).size;
    const stepsWithReward = new Set(points.filter((p) => p.key === "reward/mean").map((p) => p.step)).size;
    if (duplicates || missing || pointDuplicates || stepsWithReward !== STEPS)
      throw new Error(
        `${mode}: rollouts ${keys.length} (${duplicates} repeated, ${missing} missing), metric points ${pointKeys.length} (${pointDuplicates} repeated), reward/mean at ${stepsWithReward} of ${STEPS} steps`,
      );
    const max = (f: (s: WorkerSample) => number) => Math.max(...during.map(f));
    // Step times: between consecutive "step done" lines, for the steps that ended in the window.
    const stepS: number[] = [];
    for (let i = 1; i < result.stepDoneAt.length; i++)
      if (result.stepDoneAt[i - 1] >= cutAt && result.stepDoneAt[i] <= windowEnd)
        stepS.push((result.stepDoneAt[i] - result.stepDoneAt[i - 1]) / 1000);
    stepS.sort((a, b) => a - b);
    return {
      [`${mode}_cut_s`]: CUT_S,
      [`${mode}_steps_before_cut`]: before.steps,
      [`${mode}_step_s_p50`]: stepS.length ? round(stepS[Math.floor(stepS.length / 2)], 3) : -1,
      [`${mode}_step_s_mean`]: stepS.length ? round(stepS.reduce((a, b) => a + b, 0) / stepS.length, 3) : -1,
      [`${mode}_step_s_max`]: stepS.length ? round(stepS[stepS.length - 1], 3) : -1,
      [`${mode}_steps_during_cut`]: atHeal.steps - before.steps,
      // Up to the last step reached in the window (the run's final step waits for its checkpoint).
      [`${mode}_steps_per_s_during_cut`]: round((atHeal.steps - before.steps) / trainedS, 3),
      [`${mode}_rss_before_mib`]: round(before.rssMiB),
      [`${mode}_rss_max_during_mib`]: round(max((s) => s.rssMiB)),
      [`${mode}_heap_before_mib`]: round(before.heapMiB),
      [`${mode}_heap_max_during_mib`]: round(max((s) => s.heapMiB)),
      // After a full collection: what the worker really holds (garbage not yet collected excluded).
      [`${mode}_live_heap_before_mib`]: round(lastLive(samples.filter((s) => s.at < cutAt)) ?? -1),
      [`${mode}_live_heap_max_during_mib`]: round(Math.max(...during.map((s) => s.liveHeapMiB ?? 0))),
      [`${mode}_live_heap_at_heal_mib`]: round(lastLive(during) ?? -1),
      // Bounded memory: what the last three quarters of the cut added (an unbounded buffer grows here).
      [`${mode}_rss_quarter_to_heal_mib`]: round(atHeal.rssMiB - atQuarter.rssMiB),
      [`${mode}_spill_max_bytes`]: max((s) => s.spillBytes),
      [`${mode}_spill_drained_s`]: spillDrained ? round((spillDrained.at - healedAt) / 1000) : -1,
      [`${mode}_heal_to_done_s`]: round((doneAt - healedAt) / 1000),
      [`${mode}_rollouts`]: keys.length,
      [`${mode}_metric_points`]: pointKeys.length,
      [`${mode}_worker_warnings`]: result.warnings.length,
    };
  } finally {
    await proxy.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export default async function cutoff(): Promise<Record<string, number | string>> {
  const t = await startTestServer({ leaseSeconds: Math.max(600, CUT_S * 3) });
  try {
    const figures: Record<string, number | string> = {
      steps: STEPS,
      checkpoint_every: CHECKPOINT_EVERY,
      outbox_memory_budget_bytes: OUTBOX_BYTES,
      slow_delay_ms: DELAY_MS,
    };
    for (const mode of MODES) Object.assign(figures, await cutOnce(t, mode));
    return figures;
  } finally {
    await t.close();
  }
}
