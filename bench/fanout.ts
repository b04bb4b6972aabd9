// Subscription fan-out: 100 subscriptions on one run (20 WebSocket connections x 5) while a worker
// reports ~1,000 rollouts/s in batches of 10 on a fixed schedule (open loop: a batch goes out on time
// even while earlier ones are being answered, up to 8 in flight). Measures the latency from commit to
// arrival at each subscriber and checks that every subscriber received every rollout exactly once, in
// cursor order. Four configurations, each on a fresh server and database:
// - the single-event form (rolloutAdded: one WebSocket message per rollout per subscriber) and the
//   batched form (rolloutsAdded: one message per batch, maxBatch 256, maxDelayMs 0 by default, as the server's);
// - one server, or two: a second `icrl server` process on the same Postgres, with the subscribers'
//   connections split between the two and the reporter on the first;
// - stalled_1: the batched form for 60 s (ICRL_BENCH_FANOUT_STALL_S) with a 101st subscriber whose TCP
//   socket is paused the whole time: the server's memory stays bounded, the others' latency is
//   compared with batched_1, and the stalled one, resumed, must get every rollout exactly once.
//
// Latency: arrival wall time minus the rollout's createdAt, which Postgres sets to the start of the
// inserting transaction (millisecond precision). That is an upper bound on commit-to-arrival, since
// it also counts the insert itself. As a lower bound, arrival minus the moment the reporting worker
// had its answer (after the commit) is reported too (ack_*). Server, worker and subscribers are
// separate processes on one machine, so they share one clock.
//
// The last line's p50_ms, p99_ms and achieved_per_s are the batched form on one server; every
// configuration's figures follow with a prefix (single_1, batched_1, single_2, batched_2, stalled_1).
//
// Knobs: ICRL_BENCH_FANOUT_SELECTION=full subscribes the single form with the SDK's
// RolloutAddedDocument (whole rollouts, ~5.7 KB per event; the default is a live-table row, ~190 B);
// ICRL_BENCH_FANOUT_RATE changes the rollouts/s; ICRL_BENCH_FANOUT_CONFIGS picks configurations
// (e.g. "batched_1"); ICRL_BENCH_FANOUT_MAX_BATCH and ICRL_BENCH_FANOUT_MAX_DELAY_MS the batch bounds.
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import v8 from "node:v8";
import vm from "node:vm";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, startServerProcess, waitReady } from "../test/support/server-process.js";
import { ADMIN_KEY } from "../test/support/server.js";
import { startControlPlane } from "./support/control-plane.js";
import { forkBenchChild } from "./support/child.js";
import { cpuMeter } from "./support/cpu.js";
import { progress, round, sleep } from "./support/stats.js";
import type { SubscribeEnd, SubscribeInit, SubscribeResult } from "./support/subscribe-child.js";
import type { PacedInit, PacedResult } from "./support/paced-reporter-child.js";

const CONNECTIONS = 20;
const PER_CONNECTION = 5;
const ROLLOUTS_PER_S = Number(process.env.ICRL_BENCH_FANOUT_RATE ?? 1000);
const BATCH = 10;
const SECONDS = 15;
const SELECTION: SubscribeInit["selection"] = process.env.ICRL_BENCH_FANOUT_SELECTION === "full" ? "full" : "live";
const MAX_BATCH = Number(process.env.ICRL_BENCH_FANOUT_MAX_BATCH ?? 256);
const MAX_DELAY_MS = Number(process.env.ICRL_BENCH_FANOUT_MAX_DELAY_MS ?? 0);
const CONFIGS = (process.env.ICRL_BENCH_FANOUT_CONFIGS ?? "single_1,batched_1,single_2,batched_2,stalled_1").split(",");
/** How long the stalled configuration reports (and its one subscriber does not read). */
const STALL_SECONDS = Number(process.env.ICRL_BENCH_FANOUT_STALL_S ?? 60);

const here = path.dirname(fileURLToPath(import.meta.url));

// A full collection on demand (outside the measured window), without starting Node with --expose-gc.
v8.setFlagsFromString("--expose-gc");
const collectGarbage = vm.runInNewContext("gc") as () => void;

/** CPU seconds (user + system) another process has used so far, from /proc. */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** A second `icrl server` process on the control plane's database. */
async function startReplica(databaseUrl: string, dir: string): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const port = await freePort();
  const child = startServerProcess({ port, adminKey: ADMIN_KEY, storage: { databaseUrl, artifactDir: dir } });
  await waitReady(port, child);
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    },
  };
}

async function measure(form: SubscribeInit["form"], replicas: number, stalled = false): Promise<Record<string, number | string>> {
  const seconds = stalled ? STALL_SECONDS : SECONDS;
  const cp = await startControlPlane();
  const replicaDir = await mkdtemp(path.join(os.tmpdir(), "icrl-bench-replica-"));
  const replica = replicas > 1 ? await startReplica(cp.t.databaseUrl, replicaDir) : null;
  const job = await cp.trainJob("fanout");
  const subscribers = forkBenchChild(path.join(here, "support", "subscribe-child.ts"), {
    urls: replica ? [cp.t.server.url, replica.url] : [cp.t.server.url],
    token: ADMIN_KEY,
    runId: job.runId,
    connections: CONNECTIONS,
    perConnection: PER_CONNECTION,
    selection: SELECTION,
    form,
    maxBatch: MAX_BATCH,
    maxDelayMs: MAX_DELAY_MS,
    stalled,
  } satisfies SubscribeInit);
  const reporter = forkBenchChild(path.join(here, "support", "paced-reporter-child.ts"), {
    url: cp.t.server.url,
    token: job.token,
    jobId: job.jobId,
    rolloutsPerS: ROLLOUTS_PER_S,
    batch: BATCH,
    seconds,
  } satisfies PacedInit);
  try {
    await subscribers.next("subscribed");
    // Report single rollouts until every subscription has seen one: from then on all are live.
    let live = false;
    const liveSignal = subscribers.next("live").then(() => (live = true));
    let from = 0;
    while (!live) {
      reporter.send("command", "sync");
      from = await reporter.next<number>("synced");
      await Promise.race([liveSignal, sleep(200)]);
    }
    progress(
      `${form}, ${replicas} server(s): ${CONNECTIONS * PER_CONNECTION} subscriptions live; reporting ${ROLLOUTS_PER_S} rollouts/s for ${SECONDS} s`,
    );
    subscribers.send("open", { from, size: ROLLOUTS_PER_S * SECONDS + 10 * BATCH });
    const meter = await cpuMeter(cp.t.server.services.pool);
    const m = meter?.();
    const replicaCpu0 = replica ? processCpuSeconds(replica.pid) : 0;
    // The first server's memory (it runs in this process) while the window lasts; its live heap
    // (after a full collection) at the window's start and end.
    collectGarbage();
    const memory0 = process.memoryUsage();
    const memory = { rss: memory0.rss, heap: memory0.heapUsed };
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      memory.rss = Math.max(memory.rss, m.rss);
      memory.heap = Math.max(memory.heap, m.heapUsed);
    }, 250);
    reporter.send("command", "run");
    const ran = await reporter.next<PacedResult>("ran");
    clearInterval(sampler);
    collectGarbage();
    const liveHeapEnd = process.memoryUsage().heapUsed;
    if (ran.from !== from) throw new Error(`the measured window starts at cursor ${ran.from}, expected ${from}`);
    subscribers.send("end", { from, to: ran.to, acks: ran.acks, timeoutMs: 120_000 } satisfies SubscribeEnd);
    const got = await subscribers.next<SubscribeResult>("result");
    const cpu = m?.read();
    const replicaCpu = replica ? processCpuSeconds(replica.pid) - replicaCpu0 : 0;
    reporter.send("command", "quit");

    const expected = got.subscribers * got.expected_per_subscriber;
    const exactlyOnce =
      got.delivered === expected &&
      got.complete_subscribers === got.subscribers &&
      got.out_of_order_or_repeated === 0 &&
      (!stalled || got.stalled?.complete === true);
    const figures = {
      subscribers: got.subscribers,
      servers: replicas,
      form,
      bytes_per_rollout: round(got.payload_bytes_per_rollout, 0),
      rollouts_per_message: round(got.rollouts_per_message, 1),
      target_per_s: ROLLOUTS_PER_S,
      achieved_per_s: round(ran.rollouts_per_s, 0),
      rollouts: ran.reported,
      delivered: got.delivered,
      exactly_once: exactlyOnce ? "yes" : "no",
      p50_ms: round(got.p50_ms, 1),
      p99_ms: round(got.p99_ms, 1),
      max_ms: round(got.max_ms, 1),
      ack_p50_ms: round(got.ack_p50_ms, 1),
      ack_p99_ms: round(got.ack_p99_ms, 1),
      report_p99_ms: round(ran.report_p99_ms, 1),
      // Cost, which other load on the machine barely changes: server (Node) CPU per delivered
      // rollout, over both processes with a replica, and the time the first server's main thread
      // spent ready but waiting for a CPU.
      server_cpu_us_per_delivery: cpu ? round(((cpu.node_s + replicaCpu) * 1e6) / got.delivered, 2) : "n/a",
      subscriber_cpu_us_per_delivery: round((got.client_cpu_s * 1e6) / got.delivered, 2),
      postgres_cpu_s: cpu ? round(cpu.postgres_s, 2) : "n/a",
      server_waited_for_cpu_s: cpu ? round(cpu.node_waited_s, 2) : "n/a",
      server_rss_start_mib: round(memory0.rss / 2 ** 20, 1),
      server_rss_max_mib: round(memory.rss / 2 ** 20, 1),
      server_live_heap_start_mib: round(memory0.heapUsed / 2 ** 20, 1),
      server_heap_max_mib: round(memory.heap / 2 ** 20, 1),
      server_live_heap_end_mib: round(liveHeapEnd / 2 ** 20, 1),
      ...(got.stalled
        ? {
            stalled_received: got.stalled.received,
            stalled_out_of_order_or_repeated: got.stalled.out_of_order_or_repeated,
            stalled_catch_up_s: round(got.stalled.catch_up_s, 2),
            stalled_dropped_and_resumed: got.stalled.dropped ? "yes" : "no",
          }
        : {}),
    };
    if (!exactlyOnce) throw new Error(`delivery was not exactly once: ${JSON.stringify(figures)}`);
    return figures;
  } finally {
    await reporter.stop();
    await subscribers.stop();
    await replica?.stop();
    await cp.close();
    await rm(replicaDir, { recursive: true, force: true });
  }
}

export default async function fanout(): Promise<Record<string, number | string>> {
  const out: Record<string, number | string> = {
    subscribers: CONNECTIONS * PER_CONNECTION,
    connections: CONNECTIONS,
    selection: SELECTION,
    target_per_s: ROLLOUTS_PER_S,
    target_p99_ms: 50,
    max_batch: MAX_BATCH,
    max_delay_ms: MAX_DELAY_MS,
  };
  const results: Record<string, Record<string, number | string>> = {};
  for (const config of CONFIGS) {
    const [form, servers] = config.split("_");
    if ((form !== "single" && form !== "batched" && form !== "stalled") || (servers !== "1" && servers !== "2"))
      throw new Error(`unknown configuration ${config}`);
    results[config] = await measure(form === "stalled" ? "batched" : form, Number(servers), form === "stalled");
    progress(`${config}: ${JSON.stringify(results[config])}`);
  }
  const headline = results.batched_1;
  if (headline) Object.assign(out, { p50_ms: headline.p50_ms, p99_ms: headline.p99_ms, achieved_per_s: headline.achieved_per_s });
  for (const [config, figures] of Object.entries(results))
    for (const [key, value] of Object.entries(figures))
      if (key !== "subscribers" && key !== "servers" && key !== "form") out[`${config}_${key}`] = value;
  return out;
}
