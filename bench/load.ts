// Load (RELIABILITY.md, fault matrix): 50 clients creating runs, listing runs and each holding a live
// rolloutAdded subscription, while two real workers train on the same server (the lookup task's tiny
// model, LoRA GRPO through the PyTorch learner). Two phases in one process: a baseline with the same
// client load and no training, then the load while both workers train. Reports p50/p99 per client
// operation in each phase and their ratio, every error, and whether every subscriber saw every
// rollout of its run exactly once.
//
// Clients wait THINK_MS between operations (people and scripts, not a flood): 50 clients at 100 ms is
// up to ~500 requests/s. Everything shares one 2-core machine: server, Postgres, clients, two
// llama.cpp engines and two learners, so the training phase measures contention too.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  CreateApiKeyDocument,
  CreateDemonstrationSetDocument,
  CreateExperimentDocument,
  CreateRunDocument,
  RolloutAddedDocument,
  RunsDocument,
  createClient,
  type IcrlClient,
} from "../client-sdk/src/index.js";
import { createLogger } from "../server/logger.js";
import { Worker } from "../worker/runtime/worker.js";
import { ADMIN_KEY } from "../test/support/server.js";
import { lookupDemoSet, lookupRunConfig, setupLookup } from "../test/training/support.js";
import { startControlPlane } from "./support/control-plane.js";
import { percentile, progress, round, sleep } from "./support/stats.js";

const CLIENTS = 50;
const THINK_MS = 100;
const PHASE_S = Number(process.env.ICRL_BENCH_LOAD_SECONDS ?? 30);
const CREATE_EVERY = 5; // one createRun per 5 operations, the rest list runs

type Op = "createRun" | "listRuns";

interface Phase {
  latencies: Record<Op, number[]>;
  errors: string[];
}

async function clientLoad(clients: IcrlClient[], experimentId: string, datasetId: string, seconds: number): Promise<Phase> {
  const phase: Phase = { latencies: { createRun: [], listRuns: [] }, errors: [] };
  const until = performance.now() + seconds * 1000;
  let created = 0;
  await Promise.all(
    clients.map(async (client, c) => {
      for (let i = 0; performance.now() < until; i++) {
        const op: Op = (i + c) % CREATE_EVERY === 0 ? "createRun" : "listRuns";
        const t0 = performance.now();
        try {
          if (op === "createRun") {
            // A run no worker here will take (the workers stop after their one job): it queues.
            const config = { model: { path: "load.gguf" }, dataset: { id: datasetId } };
            await client.mutate(CreateRunDocument, { experimentId, name: `load-${c}-${created++}`, config });
          } else {
            await client.query(RunsDocument, { first: 20 });
          }
          phase.latencies[op].push(performance.now() - t0);
        } catch (error) {
          phase.errors.push(`${op}: ${(error as Error).message}`);
        }
        await sleep(THINK_MS);
      }
    }),
  );
  return phase;
}

function summary(phase: Phase, prefix: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const op of ["createRun", "listRuns"] as const) {
    const xs = phase.latencies[op];
    out[`${prefix}_${op}_n`] = xs.length;
    out[`${prefix}_${op}_p50_ms`] = round(percentile(xs, 50), 1);
    out[`${prefix}_${op}_p99_ms`] = round(percentile(xs, 99), 1);
  }
  out[`${prefix}_errors`] = phase.errors.length;
  return out;
}

export default async function load(): Promise<Record<string, number | string>> {
  const cp = await startControlPlane();
  const dir = await mkdtemp(path.join(os.tmpdir(), "icrl-bench-load-"));
  const stop = new AbortController();
  const clients: IcrlClient[] = [];
  try {
    const { t } = cp;
    const setup = await setupLookup(t, dir);
    const demos = (await t.admin.mutate(CreateDemonstrationSetDocument, { input: { name: "load", task: "QA", items: lookupDemoSet(setup).items } }))
      .createDemonstrationSet.id;
    const experimentId = (await t.admin.mutate(CreateExperimentDocument, { name: "load" })).createExperiment.id;
    // Two training runs, created first so that the two workers claim them and nothing else.
    const trainConfig = lookupRunConfig(setup, {
      dataset: { id: setup.datasetId, split: "train" },
      curriculum: { stages: [{ shots: 2, steps: 1000 }] },
      demonstrations: { selection: "first", setId: demos },
    });
    const trainRuns: string[] = [];
    for (const name of ["load-train-a", "load-train-b"])
      trainRuns.push((await t.admin.mutate(CreateRunDocument, { experimentId, name, config: trainConfig })).createRun.id);
    const workerKey = (await t.admin.mutate(CreateApiKeyDocument, { name: "load workers", role: "WORKER" })).createApiKey.secret;

    for (let c = 0; c < CLIENTS; c++) clients.push(createClient({ url: t.server.url, token: ADMIN_KEY }));
    // Each client follows one training run live, as a dashboard tab would.
    const seen: string[][] = clients.map(() => []);
    const subscriptions = clients.map(async (client, c) => {
      for await (const { rolloutAdded } of client.subscribe(RolloutAddedDocument, { runId: trainRuns[c % 2] }, { signal: stop.signal }))
        seen[c].push(`${rolloutAdded.rollout.step}/${rolloutAdded.rollout.groupIndex}/${rolloutAdded.rollout.sampleIndex}`);
    });

    progress(`baseline: ${CLIENTS} clients for ${PHASE_S} s, no training`);
    const baseline = await clientLoad(clients, experimentId, setup.datasetId, PHASE_S);

    const workers = ["a", "b"].map(
      (name) =>
        new Worker({
          serverUrl: t.server.url,
          token: workerKey,
          name: `load-${name}`,
          threads: 1,
          gpu: false,
          dataDir: path.join(dir, `worker-${name}`),
          allowPaths: [dir],
          pollMs: 100,
          maxJobs: 1,
          logger: createLogger({ level: "silent" }),
        }),
    );
    const training = workers.map((w) => w.run());
    // Training under way on both runs before the measured phase starts.
    while (seen[0].length === 0 || seen[1].length === 0) await sleep(100);
    progress(`training: ${CLIENTS} clients for ${PHASE_S} s while two workers train`);
    const stepsBefore = seen.slice(0, 2).map((s) => new Set(s.map((k) => k.split("/")[0])).size);
    const underTraining = await clientLoad(clients, experimentId, setup.datasetId, PHASE_S);
    const stepsAfter = seen.slice(0, 2).map((s) => new Set(s.map((k) => k.split("/")[0])).size);
    for (const w of workers) await w.stop();
    await Promise.all(training);
    await sleep(1000); // the last rollouts reach the subscribers
    stop.abort();
    await Promise.allSettled(subscriptions);

    // Exactly once: no subscriber saw a rollout twice, and all followers of a run saw the same set.
    const duplicates = seen.reduce((n, s) => n + (s.length - new Set(s).size), 0);
    const reference = [seen[0], seen[1]].map((s) => [...new Set(s)].sort().join(","));
    const incomplete = seen.filter((s, c) => [...new Set(s)].sort().join(",") !== reference[c % 2]).length;
    const base = summary(baseline, "baseline");
    const load = summary(underTraining, "training");
    return {
      clients: CLIENTS,
      think_ms: THINK_MS,
      phase_s: PHASE_S,
      ...base,
      ...load,
      ratio_createRun_p99: round(load.training_createRun_p99_ms / base.baseline_createRun_p99_ms, 2),
      ratio_listRuns_p99: round(load.training_listRuns_p99_ms / base.baseline_listRuns_p99_ms, 2),
      training_steps_during_phase: stepsAfter.reduce((a, b, i) => a + b - stepsBefore[i], 0),
      rollouts_delivered: seen.reduce((n, s) => n + s.length, 0),
      subscriber_duplicates: duplicates,
      subscribers_missing_rollouts: incomplete,
      first_errors: [...baseline.errors, ...underTraining.errors].slice(0, 3).join(" | ") || "none",
    };
  } finally {
    stop.abort();
    await Promise.allSettled(clients.map((c) => c.close()));
    await cp.close();
    await rm(dir, { recursive: true, force: true });
  }
}
