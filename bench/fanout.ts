// Subscription fan-out: 100 rolloutAdded subscriptions on one run (20 WebSocket connections x 5)
// while a worker reports ~1,000 rollouts/s in batches of 10 on a fixed schedule (open loop: a batch
// goes out on time even while earlier ones are being answered, up to 8 in flight). Measures the
// latency from commit to arrival at each subscriber and checks that every subscriber received every
// rollout exactly once, in cursor order.
//
// Latency: arrival wall time minus the rollout's createdAt, which Postgres sets to the start of the
// inserting transaction (millisecond precision). That is an upper bound on commit-to-arrival, since
// it also counts the insert itself. As a lower bound, arrival minus the moment the reporting worker
// had its answer (after the commit) is reported too (ack_*). Server, worker and subscribers are
// separate processes on one machine, so they share one clock.
//
// Knobs: ICRL_BENCH_FANOUT_SELECTION=full subscribes with the SDK's RolloutAddedDocument (whole
// rollouts, ~5.7 KB per event; the default is a live-table row, ~190 B); ICRL_BENCH_FANOUT_RATE
// changes the rollouts/s.
import path from "node:path";
import { fileURLToPath } from "node:url";
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

const here = path.dirname(fileURLToPath(import.meta.url));

export default async function fanout(): Promise<Record<string, number | string>> {
  const cp = await startControlPlane();
  const job = await cp.trainJob("fanout");
  const subscribers = forkBenchChild(path.join(here, "support", "subscribe-child.ts"), {
    url: cp.t.server.url,
    token: ADMIN_KEY,
    runId: job.runId,
    connections: CONNECTIONS,
    perConnection: PER_CONNECTION,
    selection: SELECTION,
  } satisfies SubscribeInit);
  const reporter = forkBenchChild(path.join(here, "support", "paced-reporter-child.ts"), {
    url: cp.t.server.url,
    token: job.token,
    jobId: job.jobId,
    rolloutsPerS: ROLLOUTS_PER_S,
    batch: BATCH,
    seconds: SECONDS,
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
    progress(`${CONNECTIONS * PER_CONNECTION} subscriptions live; reporting ${ROLLOUTS_PER_S} rollouts/s for ${SECONDS} s`);
    subscribers.send("open", { from, size: ROLLOUTS_PER_S * SECONDS + 10 * BATCH });
    const meter = await cpuMeter(cp.t.server.services.pool);
    const m = meter?.();
    reporter.send("command", "run");
    const ran = await reporter.next<PacedResult>("ran");
    if (ran.from !== from) throw new Error(`the measured window starts at cursor ${ran.from}, expected ${from}`);
    subscribers.send("end", { from, to: ran.to, acks: ran.acks, timeoutMs: 60_000 } satisfies SubscribeEnd);
    const got = await subscribers.next<SubscribeResult>("result");
    const cpu = m?.read();
    reporter.send("command", "quit");

    const expected = got.subscribers * got.expected_per_subscriber;
    const exactlyOnce = got.delivered === expected && got.complete_subscribers === got.subscribers && got.out_of_order_or_repeated === 0;
    const figures = {
      subscribers: got.subscribers,
      connections: CONNECTIONS,
      selection: SELECTION,
      payload_bytes: got.payload_bytes,
      target_rollouts_per_s: ROLLOUTS_PER_S,
      rollouts_per_s: round(ran.rollouts_per_s, 0),
      batch: BATCH,
      rollouts: ran.reported,
      delivered: got.delivered,
      expected_deliveries: expected,
      exactly_once: exactlyOnce ? "yes" : "no",
      p50_ms: round(got.p50_ms, 1),
      p99_ms: round(got.p99_ms, 1),
      max_ms: round(got.max_ms, 1),
      target_p99_ms: 50,
      ack_p50_ms: round(got.ack_p50_ms, 1),
      ack_p99_ms: round(got.ack_p99_ms, 1),
      report_p99_ms: round(ran.report_p99_ms, 1),
      // Cost, which other load on the machine barely changes: server (Node) CPU per delivered event,
      // and the time the server's main thread spent ready but waiting for a CPU.
      server_cpu_us_per_delivery: cpu ? round((cpu.node_s * 1e6) / got.delivered, 1) : "n/a",
      subscriber_cpu_us_per_delivery: round((got.client_cpu_s * 1e6) / got.delivered, 1),
      postgres_cpu_s: cpu ? round(cpu.postgres_s, 2) : "n/a",
      server_waited_for_cpu_s: cpu ? round(cpu.node_waited_s, 2) : "n/a",
    };
    if (!exactlyOnce) throw new Error(`delivery was not exactly once: ${JSON.stringify(figures)}`);
    return figures;
  } finally {
    await reporter.stop();
    await subscribers.stop();
    await cp.close();
  }
}
