// `icrl worker --concurrency N`: N workers in one process, each a full Worker with its own name,
// data directory (so its own stable identity), engine cache and claim loop. Jobs spread over them
// as over any N workers, and the CPU threads are shared out so N jobs do not oversubscribe the cores.
import os from "node:os";
import path from "node:path";
import { defaultAllowedRoots } from "./allowed-paths.js";
import { defaultWorkerName } from "./registration.js";
import { Worker, type WorkerOptions, type WorkerSummary } from "./worker.js";

/** The options of each of the N workers (slots); with one slot, the options as given. */
export function slotOptions(options: WorkerOptions, concurrency: number, cores = os.availableParallelism()): WorkerOptions[] {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`concurrency must be a positive integer, got ${concurrency}`);
  if (concurrency > cores) {
    throw new Error(
      `concurrency ${concurrency} is more than this machine's ${cores} cores: each job needs at least one; use --concurrency ${cores} or less`,
    );
  }
  if (concurrency === 1) return [options];
  const name = options.name ?? defaultWorkerName();
  // Leave a core for the server, the learner's Python and Node itself, as one worker does.
  const threads = options.threads ?? Math.max(1, Math.floor((cores - 1) / concurrency));
  return Array.from({ length: concurrency }, (_, i) => ({
    ...options,
    name: `${name}-${i + 1}`,
    threads,
    dataDir: options.dataDir ? path.join(options.dataDir, `slot-${i + 1}`) : undefined,
    // The slots read what one worker on the whole data dir would, not only their own slot dir.
    allowPaths: options.allowPaths ?? (options.dataDir ? defaultAllowedRoots(options.dataDir) : undefined),
    logger: options.logger?.child({ slot: i + 1 }),
  }));
}

export class WorkerPool {
  readonly workers: Worker[];

  constructor(options: WorkerOptions, concurrency: number) {
    this.workers = slotOptions(options, concurrency).map((o) => new Worker(o));
  }

  stop(reason?: string): void {
    for (const w of this.workers) w.stop(reason);
  }

  /** Runs every slot until stopped (or each has run maxJobs); a slot that fails stops the others. */
  async run(): Promise<WorkerSummary[]> {
    const runs = this.workers.map((w) =>
      w.run().catch((error: unknown) => {
        this.stop("another slot of this process failed");
        throw error;
      }),
    );
    const settled = await Promise.allSettled(runs);
    const failed = settled.find((s) => s.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    return settled.map((s) => (s as PromiseFulfilledResult<WorkerSummary>).value);
  }
}
