// A resumable, gap-free stream over rows that carry a per-topic cursor committed in order.
//
// Correctness: writers assign cursors under a lock on the parent row, so cursors become visible in
// increasing order. A subscriber remembers the last cursor it delivered and always asks Postgres for
// "cursor > last", so it can never skip or repeat a row, whatever order notifications arrive in.
//
// Cost: with many subscribers on one topic, a shared Feed per topic fetches each new range once and
// keeps the recent rows in memory; subscribers that are caught up read from there.
import type { EventHub, Topic } from "./hub.js";

export interface Cursored {
  cursor: bigint;
}

export type FetchAfter<T extends Cursored> = (after: bigint, limit: number) => Promise<T[]>;

const PAGE = 500;
const KEEP = 4000;

class Feed<T extends Cursored> {
  rows: T[] = [];
  /** Everything up to here has been fetched into `rows` (or skipped past). */
  fetchedTo: bigint | null = null;
  private inflight: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  refs = 0;

  constructor(private fetch: FetchAfter<T>) {}

  /** Rows after `after`, or null when the feed cannot answer (subscriber must read Postgres itself). */
  read(after: bigint): T[] | null {
    if (this.fetchedTo === null) return null;
    const first = this.rows[0];
    if (!first || after < first.cursor - 1n) return after >= this.fetchedTo ? [] : null;
    // Rows are in cursor order: binary search, since every subscriber reads on every event.
    let lo = 0;
    let hi = this.rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.rows[mid].cursor > after) hi = mid;
      else lo = mid + 1;
    }
    return lo === this.rows.length ? [] : this.rows.slice(lo);
  }

  /**
   * Fetch whatever is new since fetchedTo, one fetch at a time. A call made while a fetch is
   * running (say, a notification for a commit that fetch started too early to see) gets one more
   * fetch after it, shared by every call made meanwhile: each caller's promise resolves after a
   * fetch that began after the call, so no announced row is left behind.
   */
  refresh(): Promise<void> {
    if (this.fetchedTo === null) return Promise.resolve();
    if (this.queued) return this.queued;
    if (!this.inflight) return this.start();
    const next = () => {
      this.queued = null;
      return this.start();
    };
    this.queued = this.inflight.then(next, next);
    return this.queued;
  }

  private start(): Promise<void> {
    this.inflight = (async () => {
      try {
        for (;;) {
          const batch = await this.fetch(this.fetchedTo!, PAGE);
          if (batch.length === 0) break;
          this.rows.push(...batch);
          this.fetchedTo = batch[batch.length - 1].cursor;
          if (batch.length < PAGE) break;
        }
        if (this.rows.length > KEEP) this.rows.splice(0, this.rows.length - KEEP);
      } finally {
        this.inflight = null;
      }
    })();
    return this.inflight;
  }

  /** The first subscriber that has caught up with Postgres seeds the feed's position. */
  seed(at: bigint): void {
    if (this.fetchedTo === null || at > this.fetchedTo) {
      if (this.fetchedTo !== null && at > this.fetchedTo) this.rows = [];
      this.fetchedTo = at;
    }
  }
}

export class FeedRegistry {
  private feeds = new Map<string, Feed<any>>();

  constructor(private hub: EventHub) {}

  /** Live subscribers of a topic now (for observability, and for tests that must know one is listening). */
  subscribers(topic: Topic): number {
    return this.feeds.get(topic)?.refs ?? 0;
  }

  /**
   * Yields rows with cursor > after (or only new rows when after is undefined and `tail` gives the
   * current end), first replayed from Postgres, then live, until the signal aborts or the consumer
   * stops iterating.
   */
  async *stream<T extends Cursored>(options: {
    topic: Topic;
    after?: bigint | null;
    tail: () => Promise<bigint>;
    fetch: FetchAfter<T>;
    signal?: AbortSignal;
  }): AsyncGenerator<T> {
    const { topic, fetch, signal } = options;
    let feed = this.feeds.get(topic) as Feed<T> | undefined;
    if (!feed) this.feeds.set(topic, (feed = new Feed<T>(fetch)));
    feed.refs++;

    let wake: (() => void) | null = null;
    let dirty = true;
    const poke = () => {
      dirty = true;
      const w = wake;
      wake = null;
      w?.();
    };
    const unlisten = this.hub.on(topic, () => {
      void feed!.refresh().then(poke, poke);
    });
    const onAbort = () => poke();
    signal?.addEventListener("abort", onAbort);

    try {
      // Listen before reading the tail: anything committed after this point wakes us.
      let last = options.after ?? (await options.tail());
      for (;;) {
        if (signal?.aborted) return;
        dirty = false;
        let rows = feed.read(last);
        if (rows === null) {
          rows = await fetch(last, PAGE);
          if (rows.length < PAGE) {
            // Caught up with Postgres: from here the shared feed can serve us.
            feed.seed(rows.length ? rows[rows.length - 1].cursor : last);
            // A notification that came during our own fetch found the feed unseeded and fetched
            // nothing, and our snapshot may predate its commit: have the feed look again.
            if (dirty) await feed.refresh();
          }
        }
        let delivered = 0;
        for (const row of rows) {
          if (row.cursor <= last) continue;
          last = row.cursor;
          delivered++;
          yield row;
        }
        if (delivered > 0 || dirty) continue;
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (dirty || signal?.aborted) resolve();
        });
      }
    } finally {
      unlisten();
      signal?.removeEventListener("abort", onAbort);
      if (--feed.refs === 0) this.feeds.delete(topic);
    }
  }
}
