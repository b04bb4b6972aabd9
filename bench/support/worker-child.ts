// A real Worker in its own process for bench/cutoff.ts, so its memory is measured apart from the
// server's. Every `sampleMs` it sends its resident set, heap, the bytes its outbox has spilled to disk
// and the training steps done so far; at the end, when each step was done. "stop" asks for a graceful
// stop.
import fs from "node:fs";
import v8 from "node:v8";
import vm from "node:vm";
import path from "node:path";
import { pino } from "pino";
import { Worker } from "../../worker/runtime/worker.js";
import { runBenchChild } from "./child.js";

export interface WorkerChildInit {
  url: string;
  token: string;
  dir: string;
  maxMemoryBytes: number;
  sampleMs: number;
}

export interface WorkerSample {
  at: number;
  rssMiB: number;
  heapMiB: number;
  /** The heap after a full garbage collection: what is really held (taken every fifth sample). */
  liveHeapMiB: number | null;
  spillBytes: number;
  steps: number;
}

function bytesUnder(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) {
      try {
        total += fs.statSync(path.join(entry.parentPath, entry.name)).size;
      } catch {
        // removed while we looked: delivered
      }
    }
  }
  return total;
}

// A full collection on demand, without starting Node with --expose-gc.
v8.setFlagsFromString("--expose-gc");
const collectGarbage = vm.runInNewContext("gc") as () => void;

runBenchChild<WorkerChildInit>(async (init, io) => {
  let sampleCount = 0;
  let steps = 0;
  const stepDoneAt: number[] = [];
  const warnings: string[] = [];
  const logger = pino(
    { level: "info" },
    {
      write: (line: string) => {
        if (line.includes('"msg":"step done"')) {
          steps++;
          stepDoneAt.push(Date.now());
        } else if (line.includes('"level":40') || line.includes('"level":50')) warnings.push(line);
      },
    },
  );
  const dataDir = path.join(init.dir, "worker");
  const worker = new Worker({
    serverUrl: init.url,
    token: init.token,
    name: "cut-off",
    threads: 1,
    gpu: false,
    dataDir,
    allowPaths: [init.dir],
    pollMs: 100,
    maxJobs: 1,
    logger,
    outbox: { maxMemoryBytes: init.maxMemoryBytes },
  });
  const outboxDir = path.join(dataDir, "outbox");
  const timer = setInterval(() => {
    const mem = process.memoryUsage();
    let liveHeapMiB: number | null = null;
    if (sampleCount++ % 5 === 0) {
      collectGarbage();
      liveHeapMiB = process.memoryUsage().heapUsed / 2 ** 20;
    }
    const sample: WorkerSample = {
      at: Date.now(),
      rssMiB: mem.rss / 2 ** 20,
      heapMiB: mem.heapUsed / 2 ** 20,
      liveHeapMiB,
      spillBytes: fs.existsSync(outboxDir) ? bytesUnder(outboxDir) : 0,
      steps,
    };
    io.send("sample", sample);
  }, init.sampleMs);
  void io.next("stop").then(() => worker.stop("bench asked"));
  const summary = await worker.run();
  clearInterval(timer);
  io.send("done", { summary, warnings: warnings.slice(-20), stepDoneAt });
});
