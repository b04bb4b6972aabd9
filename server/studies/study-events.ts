// studyUpdated: a study changes whenever one of its runs does (status, progress: the run's version)
// or logs metrics (the run's metric_seq). Both only grow, so their sum over the study's runs is a
// cursor that only grows too: a client resuming with `after` gets an event as soon as anything
// changed since, and nothing if nothing did. Each event carries the study's latest state, so bursts
// (a step logs dozens of metrics) are coalesced into at most one event per COALESCE_MS.
import type pg from "pg";
import type { EventHub } from "../events/hub.js";

const COALESCE_MS = 250;

export async function studyCursor(pool: pg.Pool, studyId: string): Promise<bigint> {
  const res = await pool.query<{ cursor: string }>(
    `SELECT (COALESCE(sum(r.version + r.metric_seq), 0) + (s.cancelled_at IS NOT NULL)::int)::text AS cursor
     FROM studies s LEFT JOIN runs r ON r.study_id = s.id WHERE s.id = $1 GROUP BY s.id`,
    [studyId],
  );
  return BigInt(res.rows[0]?.cursor ?? 0);
}

export async function* studyChanges(options: {
  pool: pg.Pool;
  hub: EventHub;
  studyId: string;
  after?: bigint | null;
  signal?: AbortSignal;
}): AsyncGenerator<bigint> {
  const { pool, hub, studyId, signal } = options;
  const runs = await pool.query<{ id: string }>("SELECT id FROM runs WHERE study_id = $1", [studyId]);
  let dirty = true;
  let wake: (() => void) | null = null;
  const poke = () => {
    dirty = true;
    const w = wake;
    wake = null;
    w?.();
  };
  // Listen first, then read: a change committed in between still wakes us.
  const offs = [...runs.rows.flatMap((r) => [hub.on(`run:${r.id}`, poke), hub.on(`metrics:${r.id}`, poke)]), hub.on(`study:${studyId}`, poke)];
  signal?.addEventListener("abort", poke);
  try {
    let last = options.after ?? -1n;
    for (;;) {
      if (signal?.aborted) return;
      if (!dirty) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (dirty || signal?.aborted) resolve();
        });
        continue;
      }
      dirty = false;
      const cursor = await studyCursor(pool, studyId);
      if (cursor > last) {
        last = cursor;
        yield cursor;
        await new Promise((r) => setTimeout(r, COALESCE_MS));
      }
    }
  } finally {
    for (const off of offs) off();
    signal?.removeEventListener("abort", poke);
  }
}
