// A resumable, gap-free stream over rows that carry a per-topic cursor committed in order.
//
// Correctness: writers assign cursors under a lock on the parent row, so cursors become visible in
// increasing order. A subscriber remembers the last cursor it delivered and always asks Postgres for
// "cursor > last", so it can never skip or repeat a row, whatever order notifications arrive in.
//
// Cost: with many subscribers on one topic, a shared Feed per topic fetches each new range once and
// keeps the recent rows in memory; subscribers that are caught up read from there.
//
// Memory: no subscriber has a queue. A stream reads its next rows (a page for `stream`, handed
// over one by one; a batch for `batches`) only when its consumer asks, and graphql-ws asks once the
// previous message is written; so a subscriber that stops reading holds one batch, falls behind the
// shared window (`window` rows per topic) and later catches up from Postgres by cursor.
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
  keep = KEEP;

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
        if (this.rows.length > this.keep) this.rows.splice(0, this.rows.length - this.keep);
      } finally {
        this.inflight = null;
      }
    })();
    return this.inflight;
  }

  /** The fetch now running or queued, if any: it may bring rows announced before a subscriber listened. */
  pending(): Promise<void> | null {
    return this.queued ?? this.inflight;
  }

  /** The first subscriber that has caught up with Postgres seeds the feed's position. */
  seed(at: bigint): void {
    if (this.fetchedTo === null || at > this.fetchedTo) {
      if (this.fetchedTo !== null && at > this.fetchedTo) this.rows = [];
      this.fetchedTo = at;
    }
  }
}

/** What one open stream is doing, for observability and for tests of slow subscribers. */
export interface StreamState {
  /** The last cursor handed to the consumer. */
  last: bigint | null;
  /** Rows handed to the consumer in the message it has not finished sending yet. */
  held: number;
}

export interface BatchOptions {
  /** Most rows in one batch. */
  maxBatch: number;
  /** How long a batch that is not full waits for more rows after its first one, in ms (0: no wait). */
  maxDelayMs: number;
}

export class FeedRegistry {
  private feeds = new Map<string, Feed<any>>();
  private states = new Map<string, Set<StreamState>>();
  /**
   * Rows each topic's feed keeps in memory for subscribers that are a little behind. A subscriber
   * further behind (one that stopped reading) reads Postgres by cursor instead, so no subscriber
   * ever has a queue of its own: the window is shared and bounded.
   */
  window = KEEP;

  constructor(private hub: EventHub) {}

  /** Live subscribers of a topic now (for observability, and for tests that must know one is listening). */
  subscribers(topic: Topic): number {
    return this.feeds.get(topic)?.refs ?? 0;
  }

  /** Where each open stream of a topic is. */
  streams(topic: Topic): StreamState[] {
    return [...(this.states.get(topic) ?? [])].map((s) => ({ ...s }));
  }

  /**
   * Yields rows with cursor > after (or only new rows when after is undefined and `tail` gives the
   * current end), first replayed from Postgres, then live, until the signal aborts or the consumer
   * stops iterating.
   */
  async *stream<T extends Cursored>(options: StreamOptions<T>): AsyncGenerator<T> {
    for await (const batch of this.batches({ ...options, maxBatch: PAGE, maxDelayMs: 0 })) yield* batch;
  }

  /**
   * Like stream, in batches: each batch is whatever has arrived since the previous one, up to
   * maxBatch rows, waiting up to maxDelayMs after its first row for more. The next batch is read
   * only when the consumer asks for it (graphql-ws asks once the previous message is written), so a
   * subscriber that stops reading holds one batch, and catches up from the window or Postgres later.
   */
  async *batches<T extends Cursored>(options: StreamOptions<T> & BatchOptions): AsyncGenerator<T[]> {
    const { topic, fetch, signal, maxBatch, maxDelayMs } = options;
    let feed = this.feeds.get(topic) as Feed<T> | undefined;
    if (!feed) this.feeds.set(topic, (feed = new Feed<T>(fetch)));
    feed.keep = this.window;
    feed.refs++;
    const state: StreamState = { last: null, held: 0 };
    let states = this.states.get(topic);
    if (!states) this.states.set(topic, (states = new Set()));
    states.add(state);

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
    // Rows announced before we listened may still be on their way into the feed: the fetch that
    // brings them pokes only the subscribers that were listening. Look again once it is done.
    void feed.pending()?.then(poke, poke);
    const onAbort = () => poke();
    signal?.addEventListener("abort", onAbort);
    /** Wait for a notification (or abort), or until `until` (ms since epoch) when given. */
    const sleep = (until?: number) =>
      new Promise<void>((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        wake = () => {
          if (timer) clearTimeout(timer);
          resolve();
        };
        if (until !== undefined)
          timer = setTimeout(() => {
            wake = null;
            resolve();
          }, until - Date.now());
        if (dirty || signal?.aborted) wake();
      });

    /** Up to `limit` rows after `after`, from the shared feed when it can answer, else from Postgres. */
    const take = async (after: bigint, limit: number): Promise<T[]> => {
      dirty = false;
      let rows = feed!.read(after);
      if (rows === null) {
        rows = await fetch(after, limit);
        if (rows.length < limit) {
          // Caught up with Postgres: from here the shared feed can serve us.
          feed!.seed(rows.length ? rows[rows.length - 1].cursor : after);
          // A notification that came during our own fetch found the feed unseeded and fetched
          // nothing, and our snapshot may predate its commit: have the feed look again.
          if (dirty) await feed!.refresh();
        }
      }
      const out: T[] = [];
      for (const row of rows) {
        if (row.cursor <= after) continue;
        out.push(row);
        if (out.length >= limit) break;
      }
      return out;
    };

    try {
      // Listen before reading the tail: anything committed after this point wakes us.
      let last = options.after ?? (await options.tail());
      for (;;) {
        if (signal?.aborted) return;
        const batch = await take(last, maxBatch);
        if (batch.length > 0 && batch.length < maxBatch && maxDelayMs > 0) {
          const deadline = Date.now() + maxDelayMs;
          while (batch.length < maxBatch && !signal?.aborted && Date.now() < deadline) {
            await sleep(deadline);
            if (!dirty) break; // the deadline passed with nothing new
            batch.push(...(await take(batch[batch.length - 1].cursor, maxBatch - batch.length)));
          }
        }
        if (batch.length > 0) {
          last = batch[batch.length - 1].cursor;
          state.last = last;
          state.held = batch.length;
          yield batch;
          state.held = 0;
          continue;
        }
        if (dirty) continue;
        await sleep();
      }
    } finally {
      unlisten();
      signal?.removeEventListener("abort", onAbort);
      states.delete(state);
      if (states.size === 0) this.states.delete(topic);
      if (--feed.refs === 0) this.feeds.delete(topic);
    }
  }
}

export interface StreamOptions<T extends Cursored> {
  topic: Topic;
  after?: bigint | null;
  tail: () => Promise<bigint>;
  fetch: FetchAfter<T>;
  signal?: AbortSignal;
}
