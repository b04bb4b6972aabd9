// Rollout ingestion throughput: concurrent workers reporting realistic rollouts through GraphQL
// (HTTP, auth, job-lease check, run lock, idempotent insert, notify), compared with the same rows
// inserted straight into the same Postgres with `pg` (batched unnest INSERT, no server at all).
import pg from "pg";
import { ReportRolloutsDocument, type RolloutInput } from "../client-sdk/index.js";
import { startControlPlane, type ControlPlane, type TrainJob } from "./support/control-plane.js";
import { rolloutBatches, textBytes } from "./support/rollouts.js";
import { progress, round } from "./support/stats.js";

const WORKERS = 4;
const ROLLOUTS_PER_WORKER = 2000;
const BATCH = 50;
const ROUNDS = 2; // alternate GraphQL and direct rounds; report the best of each

/** The baseline: the same columns and the same multi-row unnest INSERT the server uses, minus the
 * run-row lock, cursor bookkeeping, duplicate check and notification. */
const DIRECT_SQL = `
INSERT INTO rollouts (run_id, seq, step, stage, shots, group_index, sample_index, question_id, segments,
  reward, reward_components, advantage, prompt_tokens, response_tokens, turns, tool_calls_valid,
  tool_calls_invalid, finish_reason)
SELECT $1, u.seq, u.step, u.stage, u.shots, u.g, u.s, u.q, u.seg::jsonb, u.r, u.rc::jsonb, u.adv,
  u.pt, u.rt, u.turns, u.tv, u.ti, u.fr
FROM unnest($2::bigint[], $3::int[], $4::int[], $5::int[], $6::int[], $7::int[], $8::text[], $9::text[],
  $10::float8[], $11::text[], $12::float8[], $13::int[], $14::int[], $15::int[], $16::int[], $17::int[], $18::text[])
  AS u(seq, step, stage, shots, g, s, q, seg, r, rc, adv, pt, rt, turns, tv, ti, fr)`;

function directParams(runId: string, firstSeq: number, rows: RolloutInput[]): unknown[] {
  const col = <T>(f: (r: RolloutInput) => T) => rows.map(f);
  return [
    runId,
    rows.map((_, i) => firstSeq + i),
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
  ];
}

async function storedCount(pool: pg.Pool, runIds: string[]): Promise<number> {
  const res = await pool.query("SELECT count(*)::int AS n FROM rollouts WHERE run_id = ANY($1::uuid[])", [runIds]);
  return res.rows[0].n;
}

async function viaGraphql(jobs: TrainJob[], batches: RolloutInput[][]): Promise<number> {
  const started = performance.now();
  await Promise.all(
    jobs.map(async ({ worker, jobId }) => {
      for (const rollouts of batches) {
        const res = await worker.mutate(ReportRolloutsDocument, { jobId, rollouts });
        if (res.reportRollouts.inserted !== rollouts.length) throw new Error(`expected ${rollouts.length} new rollouts, got ${res.reportRollouts.inserted}`);
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

async function viaPg(pool: pg.Pool, runIds: string[], batches: RolloutInput[][]): Promise<number> {
  const started = performance.now();
  await Promise.all(
    runIds.map(async (runId) => {
      const client = await pool.connect();
      try {
        let seq = 1;
        for (const rows of batches) {
          await client.query(DIRECT_SQL, directParams(runId, seq, rows));
          seq += rows.length;
        }
      } finally {
        client.release();
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

export default async function ingest(): Promise<Record<string, number | string>> {
  const cp: ControlPlane = await startControlPlane();
  const direct = new pg.Pool({ connectionString: cp.t.databaseUrl, max: WORKERS });
  try {
    const batches = rolloutBatches(ROLLOUTS_PER_WORKER, BATCH);
    const total = WORKERS * ROLLOUTS_PER_WORKER;
    const avgText = batches.flat().reduce((n, r) => n + textBytes(r), 0) / ROLLOUTS_PER_WORKER;
    const requestBytes = Buffer.byteLength(JSON.stringify(batches[0]));

    // Warm-up (JIT, connections, auth cache, plan cache) on runs that are not measured.
    const warm = await Promise.all(Array.from({ length: WORKERS }, (_, i) => cp.trainJob(`warm-${i}`)));
    await viaGraphql(warm, rolloutBatches(4 * BATCH, BATCH));
    await viaPg(direct, (await Promise.all(Array.from({ length: WORKERS }, (_, i) => cp.trainJob(`warm-pg-${i}`)))).map((j) => j.runId), rolloutBatches(4 * BATCH, BATCH));

    let bestGraphql = Infinity;
    let bestPg = Infinity;
    for (let round_ = 0; round_ < ROUNDS; round_++) {
      const jobs = await Promise.all(Array.from({ length: WORKERS }, (_, i) => cp.trainJob(`gql-${round_}-${i}`)));
      let cpu = process.cpuUsage();
      const gql = await viaGraphql(jobs, batches);
      cpu = process.cpuUsage(cpu);
      progress(`gql node cpu ${round((cpu.user + cpu.system) / 1e6)} s over ${round(gql)} s`);
      const stored = await storedCount(direct, jobs.map((j) => j.runId));
      if (stored !== total) throw new Error(`GraphQL round stored ${stored} rollouts, expected ${total}`);
      const pgRuns = (await Promise.all(Array.from({ length: WORKERS }, (_, i) => cp.trainJob(`pg-${round_}-${i}`)))).map((j) => j.runId);
      let cpu2 = process.cpuUsage();
      const raw = await viaPg(direct, pgRuns, batches);
      cpu2 = process.cpuUsage(cpu2);
      progress(`pg node cpu ${round((cpu2.user + cpu2.system) / 1e6)} s over ${round(raw)} s`);
      const storedPg = await storedCount(direct, pgRuns);
      if (storedPg !== total) throw new Error(`direct round stored ${storedPg} rollouts, expected ${total}`);
      progress(`round ${round_ + 1}: graphql ${round(total / gql, 0)} rollouts/s, pg ${round(total / raw, 0)} rollouts/s`);
      bestGraphql = Math.min(bestGraphql, gql);
      bestPg = Math.min(bestPg, raw);
    }
    const rps = total / bestGraphql;
    const pgRps = total / bestPg;
    return {
      workers: WORKERS,
      rollouts: total,
      batch: BATCH,
      avg_text_bytes: Math.round(avgText),
      request_bytes: requestBytes,
      rollouts_per_s: round(rps, 0),
      mb_per_s: round((rps * avgText) / 1e6, 1),
      pg_rollouts_per_s: round(pgRps, 0),
      ratio_vs_pg: round(rps / pgRps, 2),
      target_ratio: 0.5,
    };
  } finally {
    await direct.end();
    await cp.close();
  }
}
