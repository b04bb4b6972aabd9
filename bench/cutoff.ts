// Fault matrix: a worker cut off from the server for two minutes while it trains. A real Worker in its
// own process (bench/support/worker-child.ts) reaches a real server only through a TCP proxy that cuts
// the link (test/support/partition-proxy.ts): "blackhole" (packets stop, nothing is refused) and
// "refuse" (connections reset and refused). The server's lease is longer than the cut, so the attempt
// goes on; the outbox's memory budget is small (ICRL_BENCH_CUT_OUTBOX_KIB, default 64 KiB) so that
// two minutes of reports spill to disk. Afterwards every rollout and metric point is stored exactly
// once and the run finishes. Figures: steps trained while cut off, the worker's resident memory and
// spilled bytes during the cut, and how long after healing the backlog took to arrive.
//
// A checkpoint waits for the server (its rollouts must be delivered and its files uploaded before
// the run can resume from it), so training pauses at the first checkpoint boundary of an outage. The
// run here checkpoints every ICRL_BENCH_CUT_CHECKPOINT_EVERY steps (default: only at its end) so that
// the whole cut is spent training and reporting into the outbox.
//
// ICRL_BENCH_CUT_S (default 120), ICRL_BENCH_CUT_MODES (default "none,blackhole,refuse";
// "none" is the baseline: the same run with the link up for the same time),
// ICRL_BENCH_CUT_STEPS (run length, default 450: longer than the cut at the baseline rate).
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
/** "none" is the baseline: the same run and the same wait with the link up. */
type Mode = PartitionMode | "none";
const MODES = (process.env.ICRL_BENCH_CUT_MODES ?? "none,blackhole,refuse").split(",") as Mode[];
const STEPS = Number(process.env.ICRL_BENCH_CUT_STEPS ?? 450);
const OUTBOX_BYTES = Number(process.env.ICRL_BENCH_CUT_OUTBOX_KIB ?? 64) * 1024;
const CHECKPOINT_EVERY = Number(process.env.ICRL_BENCH_CUT_CHECKPOINT_EVERY ?? STEPS);
const STEPS_BEFORE_CUT = 5;

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
    const done = child.next<{ summary: { jobs: number; clean: boolean }; warnings: string[] }>("done").finally(() => (finished = true));
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
    if (mode !== "none") proxy.cut(mode);
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
    return {
      [`${mode}_cut_s`]: CUT_S,
      [`${mode}_steps_before_cut`]: before.steps,
      [`${mode}_steps_during_cut`]: atHeal.steps - before.steps,
      // Up to the last step reached in the window (the run's final step waits for its checkpoint).
      [`${mode}_steps_per_s_during_cut`]: round((atHeal.steps - before.steps) / trainedS, 3),
      [`${mode}_rss_before_mib`]: round(before.rssMiB),
      [`${mode}_rss_max_during_mib`]: round(max((s) => s.rssMiB)),
      [`${mode}_heap_before_mib`]: round(before.heapMiB),
      [`${mode}_heap_max_during_mib`]: round(max((s) => s.heapMiB)),
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
    const figures: Record<string, number | string> = { steps: STEPS, checkpoint_every: CHECKPOINT_EVERY, outbox_memory_budget_bytes: OUTBOX_BYTES };
    for (const mode of MODES) Object.assign(figures, await cutOnce(t, mode));
    return figures;
  } finally {
    await t.close();
  }
}
