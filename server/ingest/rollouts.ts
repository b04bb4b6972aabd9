// Idempotent batched rollout ingestion in ONE statement (one round trip, its own transaction): lock
// the run row (so this run's cursors are committed in order), insert with ON CONFLICT DO NOTHING on
// (run, step, group, sample), and notify. The worker path also checks the job lease in the same
// statement, so a report costs a single round trip to Postgres.
import type pg from "pg";
import { EVENT_CHANNEL } from "../events/hub.js";

export interface RolloutRow {
  step: number;
  stage: number;
  shots: number;
  groupIndex: number;
  sampleIndex: number;
  questionId: string;
  segments: { kind: string; text: string }[];
  reward: number;
  rewardComponents?: unknown;
  advantage?: number | null;
  promptTokens: number;
  responseTokens: number;
  turns: number;
  toolCallsValid: number;
  toolCallsInvalid: number;
  finishReason: string;
}

export interface BatchOutcome {
  inserted: number;
  duplicates: number;
  cursor: bigint;
}

/** $1 = run id, or job id when `runOfHeldJob` picks the run ($20 = worker id); $2 = batch size. */
function insertSql(runOfHeldJob: boolean): string {
  const target = runOfHeldJob ? `(SELECT run_id FROM jobs WHERE id = $1 AND lease_owner_id = $20 AND status = 'LEASED')` : `$1`;
  return `
WITH base AS (
  UPDATE runs SET rollout_seq = rollout_seq + $2, updated_at = now() WHERE id = ${target}
  RETURNING id, rollout_seq - $2 AS b
), ins AS (
  INSERT INTO rollouts (run_id, seq, step, stage, shots, group_index, sample_index, question_id, segments,
    reward, reward_components, advantage, prompt_tokens, response_tokens, turns, tool_calls_valid,
    tool_calls_invalid, finish_reason)
  SELECT base.id, base.b + u.ord, u.step, u.stage, u.shots, u.g, u.s, u.q, u.seg::jsonb, u.r, u.rc::jsonb, u.adv,
    u.pt, u.rt, u.turns, u.tv, u.ti, u.fr
  FROM base, unnest($3::int[], $4::int[], $5::int[], $6::int[], $7::int[], $8::text[], $9::text[],
    $10::float8[], $11::text[], $12::float8[], $13::int[], $14::int[], $15::int[], $16::int[], $17::int[], $18::text[])
    WITH ORDINALITY AS u(step, stage, shots, g, s, q, seg, r, rc, adv, pt, rt, turns, tv, ti, fr, ord)
  ON CONFLICT (run_id, step, group_index, sample_index) DO NOTHING
  RETURNING seq
), outcome AS (
  SELECT (SELECT id FROM base) AS run_id, (SELECT b FROM base) AS base, count(*)::int AS inserted, max(seq) AS max_seq FROM ins
)
-- Same payload as notifyPayload(): "<topic>|<cursor>", delivered when the statement commits.
SELECT run_id, base, inserted, max_seq,
  CASE WHEN inserted > 0 THEN pg_notify($19, 'rollouts:' || run_id || '|' || max_seq) END AS notified
FROM outcome`;
}

const BY_RUN = insertSql(false);
const BY_JOB = insertSql(true);

function params(target: string, rows: RolloutRow[]): unknown[] {
  const col = <T>(f: (r: RolloutRow) => T) => rows.map(f);
  return [
    target,
    rows.length,
    col((r) => r.step),
    col((r) => r.stage),
    col((r) => r.shots),
    col((r) => r.groupIndex),
    col((r) => r.sampleIndex),
    col((r) => r.questionId),
    col((r) => JSON.stringify(r.segments)),
    col((r) => r.reward),
    col((r) => JSON.stringify(r.rewardComponents ?? {})),
    col((r) => r.advantage ?? null),
    col((r) => r.promptTokens),
    col((r) => r.responseTokens),
    col((r) => r.turns),
    col((r) => r.toolCallsValid),
    col((r) => r.toolCallsInvalid),
    col((r) => r.finishReason),
    EVENT_CHANNEL,
  ];
}

function outcome(row: { base: string | null; inserted: number; max_seq: string | null }, size: number): BatchOutcome {
  return { inserted: row.inserted, duplicates: size - row.inserted, cursor: BigInt(row.max_seq ?? row.base ?? 0) };
}

export async function insertRollouts(pool: pg.Pool, runId: string, rows: RolloutRow[]): Promise<BatchOutcome> {
  const res = await pool.query({ name: "insert_rollouts_by_run", text: BY_RUN, values: params(runId, rows) });
  return outcome(res.rows[0], rows.length);
}

/**
 * Inserts into the run of a TRAIN job that `workerId` holds right now. Returns null, having written
 * nothing, when there is no such job (unknown, not leased by this worker, or not a run's job): the
 * caller finds out which with a separate look-up, so only failures pay for it.
 */
export async function insertRolloutsForHeldJob(pool: pg.Pool, jobId: string, workerId: string, rows: RolloutRow[]): Promise<BatchOutcome | null> {
  const res = await pool.query({ name: "insert_rollouts_by_job", text: BY_JOB, values: [...params(jobId, rows), workerId] });
  return res.rows[0].run_id === null ? null : outcome(res.rows[0], rows.length);
}
