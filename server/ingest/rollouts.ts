// Idempotent batched rollout ingestion. One round trip: lock the run row (so this run's cursors are
// committed in order), insert with ON CONFLICT DO NOTHING on (run, step, group, sample), notify.
import type pg from "pg";
import { notifyPayload } from "../events/hub.js";

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

const INSERT_SQL = `
WITH base AS (
  UPDATE runs SET rollout_seq = rollout_seq + $2, updated_at = now() WHERE id = $1
  RETURNING rollout_seq - $2 AS b
), ins AS (
  INSERT INTO rollouts (run_id, seq, step, stage, shots, group_index, sample_index, question_id, segments,
    reward, reward_components, advantage, prompt_tokens, response_tokens, turns, tool_calls_valid,
    tool_calls_invalid, finish_reason)
  SELECT $1, base.b + u.ord, u.step, u.stage, u.shots, u.g, u.s, u.q, u.seg::jsonb, u.r, u.rc::jsonb, u.adv,
    u.pt, u.rt, u.turns, u.tv, u.ti, u.fr
  FROM base, unnest($3::int[], $4::int[], $5::int[], $6::int[], $7::int[], $8::text[], $9::text[],
    $10::float8[], $11::text[], $12::float8[], $13::int[], $14::int[], $15::int[], $16::int[], $17::int[], $18::text[])
    WITH ORDINALITY AS u(step, stage, shots, g, s, q, seg, r, rc, adv, pt, rt, turns, tv, ti, fr, ord)
  ON CONFLICT (run_id, step, group_index, sample_index) DO NOTHING
  RETURNING seq
)
SELECT (SELECT count(*) FROM ins)::int AS inserted, (SELECT max(seq) FROM ins) AS max_seq, (SELECT b FROM base) AS base`;

export async function insertRollouts(pool: pg.Pool, runId: string, rows: RolloutRow[]): Promise<BatchOutcome> {
  const col = <T>(f: (r: RolloutRow) => T) => rows.map(f);
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const res = await client.query(INSERT_SQL, [
      runId,
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
    ]);
    const { inserted, max_seq, base } = res.rows[0];
    const cursor = BigInt(max_seq ?? base ?? 0);
    if (inserted > 0) await client.query("SELECT pg_notify($1, $2)", notifyPayload(`rollouts:${runId}`, cursor));
    await client.query("COMMIT");
    return { inserted, duplicates: rows.length - inserted, cursor };
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
