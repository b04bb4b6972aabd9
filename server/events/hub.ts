// Cross-process event delivery. Writers call pg_notify inside their transaction (delivered on
// commit) with a tiny payload "<topic>|<cursor>"; every server process LISTENs on one connection and
// wakes the subscribers of that topic, which then read the rows back from Postgres. So two server
// processes on one database deliver every event to the subscribers of either.
import pg from "pg";
import type { Logger } from "../logger.js";

export const EVENT_CHANNEL = "icrl_events";

export type Topic = `rollouts:${string}` | `metrics:${string}` | `run:${string}` | `bench:${string}` | `study:${string}` | "jobs";

type Listener = (cursor: bigint | null) => void;

/** SQL fragment args for notifying inside a transaction: `SELECT pg_notify($1, $2)`. */
export function notifyPayload(topic: Topic, cursor: bigint | number | string): [string, string] {
  return [EVENT_CHANNEL, `${topic}|${cursor}`];
}

export class EventHub {
  private client: pg.Client | null = null;
  private listeners = new Map<string, Set<Listener>>();
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | null = null;

  constructor(
    private url: string,
    private logger: Logger,
  ) {}

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on("notification", (msg) => this.dispatch(msg.payload ?? ""));
    client.on("error", (err) => {
      this.logger.warn({ err: err.message }, "event listener connection lost; reconnecting");
      this.scheduleReconnect();
    });
    client.on("end", () => {
      if (!this.closed) this.scheduleReconnect();
    });
    await client.connect();
    await client.query(`LISTEN ${EVENT_CHANNEL}`);
    this.client = client;
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    this.client = null;
    this.reconnectTimer = setTimeout(async () => {
      this.reconnectTimer = null;
      try {
        await this.connect();
        // Notifications sent while we were away are lost: wake everyone to re-read from Postgres.
        for (const set of this.listeners.values()) for (const l of set) l(null);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, "event listener reconnect failed");
        this.scheduleReconnect();
      }
    }, 500);
    this.reconnectTimer.unref();
  }

  private dispatch(payload: string): void {
    const bar = payload.lastIndexOf("|");
    if (bar < 0) return;
    const topic = payload.slice(0, bar);
    let cursor: bigint | null = null;
    try {
      cursor = BigInt(payload.slice(bar + 1));
    } catch {
      cursor = null;
    }
    const set = this.listeners.get(topic);
    if (set) for (const l of set) l(cursor);
  }

  on(topic: Topic, listener: Listener): () => void {
    let set = this.listeners.get(topic);
    if (!set) this.listeners.set(topic, (set = new Set()));
    set.add(listener);
    return () => {
      set!.delete(listener);
      if (set!.size === 0) this.listeners.delete(topic);
    };
  }

  subscriberCount(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = null;
    if (client) await client.end().catch(() => {});
  }
}
