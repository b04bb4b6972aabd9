// Load generator for bench/ingest.ts: one process holding several worker clients, each reporting
// a stream of rollouts in batches to its own job, all at once and as fast as the server answers.
// Batches are built before the clock starts; each round gets fresh jobs (so fresh runs).
import { createClient, ReportRolloutsDocument } from "../../client-sdk/src/index.js";
import { runBenchChild } from "./child.js";
import { rolloutBatches } from "./rollouts.js";

export interface ReportInit {
  url: string;
  rollouts: number;
  batch: number;
}

export type ReportRound = { token: string; jobId: string }[] | null;

export interface ReportResult {
  seconds: number;
  cpu_s: number;
}

runBenchChild<ReportInit>(async (init, io) => {
  const batches = rolloutBatches(init.rollouts, init.batch);
  io.send("ready");
  for (;;) {
    const jobs = await io.next<ReportRound>("round");
    if (!jobs) return;
    const clients = jobs.map((j) => ({ client: createClient({ url: init.url, token: j.token }), jobId: j.jobId }));
    const started = performance.now();
    const cpu0 = process.cpuUsage();
    await Promise.all(
      clients.map(async ({ client, jobId }) => {
        for (const rollouts of batches) {
          const res = await client.mutate(ReportRolloutsDocument, { jobId, rollouts });
          if (res.reportRollouts.inserted !== rollouts.length)
            throw new Error(`expected ${rollouts.length} new rollouts, got ${res.reportRollouts.inserted}`);
        }
      }),
    );
    const cpu = process.cpuUsage(cpu0);
    io.send("done", { seconds: (performance.now() - started) / 1000, cpu_s: (cpu.user + cpu.system) / 1e6 } satisfies ReportResult);
  }
});
