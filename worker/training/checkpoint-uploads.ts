// Checkpoints are stored in the background, so a training step never waits for the server: the loop
// hands a checkpoint over (its files are hard-linked into this queue's directory, so the loop may
// delete or replace its own) and goes on. The queue stores one checkpoint at a time: first everything
// reported up to it (the outbox streams, since a checkpoint at step s promises steps <= s are stored),
// then its adapter and checkpoint files. While one is being stored a newer one replaces any that is
// still waiting (the newest vouches for everything before it), so an outage keeps at most two on disk.
// A failure is kept and thrown at the next hand-over or at settle(), which fails the job.
import { link, mkdir, rm } from "node:fs/promises";
import path from "node:path";

export interface CheckpointFiles {
  adapter: string;
  checkpoint: string;
}

export type StoreCheckpoint = (step: number, files: CheckpointFiles) => Promise<void>;

interface Pending {
  step: number;
  files: CheckpointFiles;
}

export class CheckpointUploads {
  private inFlight: Promise<void> | null = null;
  private waiting: Pending | null = null;
  private failure: { error: unknown } | null = null;
  private idle: (() => void)[] = [];

  constructor(
    private readonly dir: string,
    private readonly store: StoreCheckpoint,
    private readonly onReplaced: (dropped: number, by: number) => void = () => undefined,
  ) {}

  /** Queue a checkpoint; returns once its files are the queue's, before it is stored. */
  async handOver(step: number, files: CheckpointFiles): Promise<void> {
    this.throwIfFailed();
    await mkdir(this.dir, { recursive: true });
    const owned: CheckpointFiles = {
      adapter: path.join(this.dir, `step-${step}-${path.basename(files.adapter)}`),
      checkpoint: path.join(this.dir, `step-${step}-${path.basename(files.checkpoint)}`),
    };
    await Promise.all([this.take(files.adapter, owned.adapter), this.take(files.checkpoint, owned.checkpoint)]);
    if (this.waiting) {
      this.onReplaced(this.waiting.step, step);
      await removeFiles(this.waiting.files);
    }
    this.waiting = { step, files: owned };
    this.pump();
  }

  /** Wait until every checkpoint handed over is stored; throws the first failure. */
  async settle(): Promise<void> {
    while (this.inFlight || this.waiting) await new Promise<void>((resolve) => this.idle.push(resolve));
    this.throwIfFailed();
  }

  /** Give up on what is not stored yet (the job failed or lost its lease). */
  async abandon(): Promise<void> {
    const waiting = this.waiting;
    this.waiting = null;
    if (waiting) await removeFiles(waiting.files);
    await this.inFlight?.catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  private async take(from: string, to: string): Promise<void> {
    await rm(to, { force: true });
    await link(from, to);
  }

  private pump(): void {
    if (this.inFlight) return;
    const next = this.waiting;
    this.waiting = null;
    if (next && this.failure) void removeFiles(next.files); // the job fails; nothing more is stored
    if (!next || this.failure) {
      for (const resolve of this.idle.splice(0)) resolve();
      return;
    }
    this.inFlight = this.store(next.step, next.files)
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .then(() => removeFiles(next.files))
      .finally(() => {
        this.inFlight = null;
        this.pump();
      });
  }
}

async function removeFiles(files: CheckpointFiles): Promise<void> {
  await Promise.all([rm(files.adapter, { force: true }), rm(files.checkpoint, { force: true })]);
}
