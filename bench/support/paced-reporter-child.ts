// Paced load for bench/fanout.ts: one worker reporting rollouts to its job at a fixed rate, in
// small batches on a fixed schedule, for a fixed time (a late batch goes out at once, and the
// achieved rate is reported).
// Each answer's cursor range and arrival time is kept, for the subscribers' lower-bound latency.
import { createClient, ReportRolloutsDocument } from "../../client-sdk/src/index.js";
import { runBenchChild } from "./child.js";
import { benchRollout } from "./rollouts.js";
import { sleep, wallMs } from "./stats.js";

export interface PacedInit {
  url: string;
  token: string;
  jobId: string;
  rolloutsPerS: number;
  batch: number;
  seconds: number;
}

export interface PacedResult {
  from: number;
  to: number;
  reported: number;
  rollouts_per_s: number;
  /** [firstCursor, lastCursor, wall ms when the answer arrived] per batch. */
  acks: [number, number, number][];
  report_p99_ms: number;
}

const MAX_IN_FLIGHT = 8;

runBenchChild<PacedInit>(async (init, io) => {
  const client = createClient({ url: init.url, token: init.token });
  let next = 0;
  const report = async (n: number) => {
    const rollouts = Array.from({ length: n }, () => benchRollout(next++));
    const res = await client.mutate(ReportRolloutsDocument, { jobId: init.jobId, rollouts });
    if (res.reportRollouts.inserted !== n) throw new Error(`expected ${n} new rollouts, got ${res.reportRollouts.inserted}`);
    return Number(res.reportRollouts.cursor);
  };
  for (;;) {
    const command = await io.next<"sync" | "run" | "quit">("command");
    if (command === "quit") return;
    if (command === "sync") {
      io.send("synced", await report(1));
      continue;
    }
    const interval = (1000 * init.batch) / init.rolloutsPerS;
    const acks: [number, number, number][] = [];
    const took: number[] = [];
    const inFlight = new Set<Promise<void>>();
    const started = performance.now();
    // Time-bounded: a server that cannot keep up gets fewer batches, not a longer benchmark. Like a
    // worker with several generation slots, a batch goes out on schedule even while earlier ones
    // are still being answered (up to MAX_IN_FLIGHT).
    for (let k = 0; performance.now() - started < init.seconds * 1000; k++) {
      const wait = started + k * interval - performance.now();
      if (wait > 0) await sleep(wait);
      while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
      const t0 = performance.now();
      const sent: Promise<void> = report(init.batch).then((cursor) => {
        acks.push([cursor - init.batch + 1, cursor, wallMs()]);
        took.push(performance.now() - t0);
        inFlight.delete(sent);
      });
      inFlight.add(sent);
    }
    await Promise.all(inFlight);
    acks.sort((a, b) => a[0] - b[0]);
    const from = acks[0][0] - 1;
    const elapsed = (performance.now() - started) / 1000;
    const reported = acks.length * init.batch;
    took.sort((a, b) => a - b);
    io.send("ran", {
      from,
      to: acks[acks.length - 1][1],
      reported,
      rollouts_per_s: reported / elapsed,
      acks,
      report_p99_ms: took[Math.min(took.length - 1, Math.ceil(0.99 * took.length) - 1)],
    } satisfies PacedResult);
  }
});
