// The streaming outbox: results (rollouts, metric points, benchmark items) leave the process in
// batches from a background queue, so generation never waits for the network.
//
// - enqueue() is synchronous and never blocks on the server.
// - Each stream is one ordered queue with one sender; batches of a stream go out one at a time, in
//   order, so order is preserved per stream. Different streams send independently.
// - A batch that fails for an outage-like reason (no connection, 5xx) is retried with exponential
//   backoff until it is delivered (a batch the server keeps answering with an internal error gives up
//   after MAX_SERVER_ERROR_RETRIES tries). The server's batch calls are idempotent (item index, step/group/
//   sample, key/step), so a retry after a lost response stores nothing twice: exactly once.
// - Memory is bounded: past maxMemoryItems / maxMemoryBytes, a stream's new items go to an on-disk
//   JSONL file in `dir` (the tail of the queue) and come back in order as the head drains.
// - flush() resolves once everything enqueued before it has been delivered; it rejects when a stream
//   failed for good (its lease was lost, or the server rejected an item).
//
// Spill files are scratch space of this process only: after a crash the server's leases requeue the
// work, so the owner of `dir` may delete leftovers at start.
import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { Backoff, sleep, type BackoffOptions } from "./backoff.js";
import { classifyFailure, errorMessage, MAX_SERVER_ERROR_RETRIES, type FailureKind } from "./failures.js";
import { SpillFile } from "./spill-file.js";
import { Wakeup } from "./wakeup.js";

export interface OutboxLogger {
  warn(obj: object, msg?: string): void;
  info?(obj: object, msg?: string): void;
  debug?(obj: object, msg?: string): void;
}

export interface OutboxOptions {
  /** Directory for spill files. Without one, a stream keeps everything in memory (and warns once). */
  dir?: string;
  /** Items held in memory over all streams before new items spill to disk (default 5,000). */
  maxMemoryItems?: number;
  /** Serialised bytes held in memory over all streams before spilling (default 32 MiB). */
  maxMemoryBytes?: number;
  /** How long a partial batch waits for more items before it is sent (default 200 ms). */
  lingerMs?: number;
  /** Delays between retries of a failed batch (default 250 ms doubling to 10 s). */
  retry?: BackoffOptions;
  classify?: (error: unknown) => FailureKind;
  logger?: OutboxLogger;
}

export interface StreamOptions<T> {
  /**
   * Delivers one batch; must be idempotent on the server (it may run again after a lost response).
   * `signal` aborts when the stream is stopped.
   */
  send: (batch: T[], signal: AbortSignal) => Promise<unknown>;
  /** Default 200 (the server takes up to 1,000). */
  maxBatchItems?: number;
  /** Serialised bytes per batch (default 1 MiB; the server takes up to 4 MB). */
  maxBatchBytes?: number;
  /** Called once when the stream fails for good; its queued items are dropped. */
  onFailure?: (error: Error, kind: FailureKind) => void;
}

export interface StreamStats {
  key: string;
  enqueued: number;
  delivered: number;
  /** Waiting in memory (in-flight batch included). */
  inMemory: number;
  /** Waiting on disk. */
  spilled: number;
  retries: number;
  failed: boolean;
}

export class OutboxStreamFailed extends Error {
  constructor(
    readonly stream: string,
    readonly kind: FailureKind,
    cause: unknown,
  ) {
    super(`Outbox stream ${stream} failed (${kind}): ${errorMessage(cause)}`, { cause });
    this.name = "OutboxStreamFailed";
  }
}

interface Entry<T> {
  item: T;
  bytes: number;
}

interface FlushWaiter {
  target: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class OutboxStream<T> {
  private readonly memory: Entry<T>[] = [];
  private spill: SpillFile | null = null;
  private enqueued = 0;
  private delivered = 0;
  private inFlight = 0;
  private retries = 0;
  private failure: OutboxStreamFailed | null = null;
  private waiters: FlushWaiter[] = [];
  private urgent = 0;
  private stopped = false;
  private readonly wake = new Wakeup();
  private readonly abort = new AbortController();
  private readonly maxBatchItems: number;
  private readonly maxBatchBytes: number;
  private readonly done: Promise<void>;

  /** @internal created by Outbox.stream() */
  constructor(
    readonly key: string,
    private readonly outbox: Outbox,
    private readonly options: StreamOptions<T>,
  ) {
    this.maxBatchItems = options.maxBatchItems ?? 200;
    this.maxBatchBytes = options.maxBatchBytes ?? 1024 * 1024;
    this.done = this.pump();
  }

  get failed(): OutboxStreamFailed | null {
    return this.failure;
  }

  stats(): StreamStats {
    return {
      key: this.key,
      enqueued: this.enqueued,
      delivered: this.delivered,
      inMemory: this.memory.length + this.inFlight,
      spilled: this.spill?.count ?? 0,
      retries: this.retries,
      failed: this.failure !== null,
    };
  }

  /** Queue one item. Never waits; throws only if the stream was closed or failed. */
  enqueue(item: T): void {
    if (this.failure) throw this.failure;
    if (this.stopped) throw new Error(`Outbox stream ${this.key} is closed.`);
    const line = JSON.stringify(item);
    const bytes = Buffer.byteLength(line);
    this.enqueued++;
    if (this.spill && this.spill.count > 0) {
      this.spill.append(line); // the tail is on disk: keep order
    } else if (this.outbox.overMemoryBudget() && (this.spill ??= this.outbox.openSpill(this.key))) {
      this.spill.append(line);
    } else {
      this.memory.push({ item, bytes });
      this.outbox.account(1, bytes);
    }
    const queued = this.queuedCount();
    if (queued === 1 || queued >= this.maxBatchItems) this.wake.notify();
  }

  /** Resolves when everything enqueued so far is delivered; rejects if the stream fails. */
  flush(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.delivered >= this.enqueued) return Promise.resolve();
    if (this.stopped)
      return Promise.reject(new Error(`Outbox stream ${this.key} is closed with ${this.enqueued - this.delivered} item(s) undelivered.`));
    return new Promise<void>((resolve, reject) => {
      const waiter: FlushWaiter = {
        target: this.enqueued,
        resolve: () => {
          cleanup();
          resolve();
        },
        reject: (error) => {
          cleanup();
          reject(error);
        },
      };
      const onAbort = () => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.reject(new Error(`Flushing outbox stream ${this.key} was aborted with ${this.enqueued - this.delivered} item(s) undelivered.`));
      };
      const cleanup = () => {
        this.urgent--;
        options.signal?.removeEventListener("abort", onAbort);
      };
      this.urgent++;
      this.waiters.push(waiter);
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener("abort", onAbort, { once: true });
      this.wake.notify();
    });
  }

  /** Deliver what is queued, then stop the stream (if the flush is aborted, the rest is dropped). */
  async close(options: { signal?: AbortSignal } = {}): Promise<void> {
    try {
      await this.flush(options);
    } finally {
      await this.stop();
    }
  }

  /** Stop at once and drop whatever is still queued (e.g. the job's lease is gone). */
  async discard(): Promise<void> {
    const dropped = this.enqueued - this.delivered;
    if (dropped > 0) this.outbox.log?.warn({ stream: this.key, dropped }, "outbox stream discarded with undelivered items");
    if (!this.failure) this.failWith(new OutboxStreamFailed(this.key, "fatal", new Error("discarded")), false);
    await this.stop();
  }

  private async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.wake.notify();
    await this.done;
    const dropped = this.enqueued - this.delivered;
    if (dropped > 0 && !this.failure) this.outbox.log?.warn({ stream: this.key, dropped }, "outbox stream stopped with undelivered items");
    this.dropQueued();
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(new Error(`Outbox stream ${this.key} stopped with ${dropped} item(s) undelivered.`));
    this.outbox.forget(this);
  }

  private queuedCount(): number {
    return this.memory.length + (this.spill?.count ?? 0);
  }

  private dropQueued(): void {
    let bytes = 0;
    for (const e of this.memory) bytes += e.bytes;
    this.outbox.account(-this.memory.length, -bytes);
    this.memory.length = 0;
    this.spill?.remove();
    this.spill = null;
  }

  private failWith(error: OutboxStreamFailed, notify = true): void {
    this.failure = error;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(error);
    this.dropQueued();
    if (notify) this.options.onFailure?.(error, error.kind);
  }

  /** Move spilled items back into memory once the head has drained. */
  private refill(): void {
    if (!this.spill || this.spill.count === 0 || this.memory.length >= this.maxBatchItems) return;
    const lines = this.spill.read(this.maxBatchItems * 4, this.maxBatchBytes * 4);
    for (const line of lines) {
      const bytes = Buffer.byteLength(line);
      this.memory.push({ item: JSON.parse(line) as T, bytes });
      this.outbox.account(1, bytes);
    }
  }

  private takeBatch(): Entry<T>[] {
    this.refill();
    let bytes = 0;
    let n = 0;
    while (n < this.memory.length && n < this.maxBatchItems) {
      const next = this.memory[n].bytes;
      if (n > 0 && bytes + next > this.maxBatchBytes) break;
      bytes += next;
      n++;
    }
    return this.memory.splice(0, n);
  }

  private async pump(): Promise<void> {
    const linger = this.outbox.lingerMs;
    while (!this.stopped && !this.failure) {
      if (this.queuedCount() === 0) {
        await this.wake.wait();
        continue;
      }
      if (this.queuedCount() < this.maxBatchItems && this.urgent === 0) {
        await this.wake.wait(linger); // let a partial batch fill up a little
        if (this.stopped) break;
      }
      const batch = this.takeBatch();
      if (batch.length === 0) continue;
      this.inFlight = batch.length;
      const ok = await this.deliver(batch);
      this.inFlight = 0;
      let bytes = 0;
      for (const e of batch) bytes += e.bytes;
      this.outbox.account(-batch.length, -bytes);
      if (!ok) break;
      this.delivered += batch.length;
      const ready = this.waiters.filter((w) => w.target <= this.delivered);
      this.waiters = this.waiters.filter((w) => w.target > this.delivered);
      for (const w of ready) w.resolve();
    }
  }

  /** Send until delivered; false when the stream failed or was stopped. Too-large batches are split. */
  private async deliver(batch: Entry<T>[]): Promise<boolean> {
    const backoff = this.outbox.newBackoff();
    let serverErrors = 0;
    for (;;) {
      if (this.stopped || this.failure) return false;
      try {
        await this.options.send(
          batch.map((e) => e.item),
          this.abort.signal,
        );
        return true;
      } catch (error) {
        if (this.stopped) return false;
        const kind = this.outbox.classify(error);
        if (kind === "too-large" && batch.length > 1) {
          const half = Math.ceil(batch.length / 2);
          return (await this.deliver(batch.slice(0, half))) && (await this.deliver(batch.slice(half)));
        }
        if (kind === "server-error" && ++serverErrors > MAX_SERVER_ERROR_RETRIES) {
          this.outbox.log?.warn({ stream: this.key, err: errorMessage(error), attempts: serverErrors }, "server keeps failing this batch; giving up");
          this.failWith(new OutboxStreamFailed(this.key, kind, error));
          return false;
        }
        if (kind !== "transient" && kind !== "server-error") {
          this.outbox.log?.warn({ stream: this.key, kind, err: errorMessage(error), batch: batch.length }, "outbox stream failed");
          this.failWith(new OutboxStreamFailed(this.key, kind, error));
          return false;
        }
        this.retries++;
        const delay = backoff.next();
        if (backoff.failures === 1 || backoff.failures % 10 === 0) {
          this.outbox.log?.warn(
            { stream: this.key, err: errorMessage(error), retryInMs: delay, failures: backoff.failures },
            "outbox batch not delivered; retrying",
          );
        }
        await sleep(delay, this.abort.signal);
      }
    }
  }
}

export class Outbox {
  readonly lingerMs: number;
  readonly log: OutboxLogger | undefined;
  private readonly streams = new Map<string, OutboxStream<unknown>>();
  private readonly maxMemoryItems: number;
  private readonly maxMemoryBytes: number;
  private readonly instance = `${process.pid}-${randomBytes(4).toString("hex")}`;
  private memoryItems = 0;
  private memoryBytes = 0;
  private warnedNoDir = false;
  private spillCounter = 0;

  constructor(private readonly options: OutboxOptions = {}) {
    this.lingerMs = options.lingerMs ?? 200;
    this.maxMemoryItems = options.maxMemoryItems ?? 5000;
    this.maxMemoryBytes = options.maxMemoryBytes ?? 32 * 1024 * 1024;
    this.log = options.logger;
    if (options.dir) fs.mkdirSync(options.dir, { recursive: true });
  }

  /**
   * The stream with this key, created on first use (later calls return the same stream). A stream that
   * failed for good is replaced by a fresh one: its failure belongs to whoever used it, not to the key.
   */
  stream<T>(key: string, options: StreamOptions<T>): OutboxStream<T> {
    const existing = this.streams.get(key);
    if (existing && !existing.failed) return existing as OutboxStream<T>;
    const created = new OutboxStream<T>(key, this, options);
    this.streams.set(key, created as OutboxStream<unknown>);
    return created;
  }

  get(key: string): OutboxStream<unknown> | undefined {
    return this.streams.get(key);
  }

  stats(): StreamStats[] {
    return [...this.streams.values()].map((s) => s.stats());
  }

  /** Everything enqueued on every stream so far, delivered. */
  async flush(options: { signal?: AbortSignal } = {}): Promise<void> {
    await Promise.all([...this.streams.values()].map((s) => s.flush(options)));
  }

  /** Flush and stop every stream. */
  async close(options: { signal?: AbortSignal } = {}): Promise<void> {
    const results = await Promise.allSettled([...this.streams.values()].map((s) => s.close(options)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  /** @internal */
  classify(error: unknown): FailureKind {
    return (this.options.classify ?? classifyFailure)(error);
  }

  /** @internal */
  newBackoff(): Backoff {
    return new Backoff({ initialMs: 250, maxMs: 10_000, ...this.options.retry });
  }

  /** @internal */
  account(items: number, bytes: number): void {
    this.memoryItems += items;
    this.memoryBytes += bytes;
  }

  /** @internal */
  overMemoryBudget(): boolean {
    return this.memoryItems >= this.maxMemoryItems || this.memoryBytes >= this.maxMemoryBytes;
  }

  /** @internal A spill file for a stream, or null (memory only) when there is no directory. */
  openSpill(key: string): SpillFile | null {
    if (!this.options.dir) {
      if (!this.warnedNoDir) {
        this.warnedNoDir = true;
        this.log?.warn(
          { items: this.memoryItems, bytes: this.memoryBytes },
          "outbox over its memory budget and has no spill directory; buffering in memory",
        );
      }
      return null;
    }
    const safe = key.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 80);
    return new SpillFile(path.join(this.options.dir, `${this.instance}-${++this.spillCounter}-${safe}.jsonl`));
  }

  /** @internal */
  forget(stream: { key: string }): void {
    if ((this.streams.get(stream.key) as unknown) === stream) this.streams.delete(stream.key);
  }
}
