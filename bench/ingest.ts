// Rollout ingestion throughput: concurrent workers reporting realistic rollouts through GraphQL
// (HTTP, auth, job-lease check, run lock, idempotent insert, notify), compared with the same rows
// inserted straight into the same Postgres with `pg` (batched unnest INSERT, no server at all).
//
// The workers run in a child process (in production they are other machines), the server and the
// direct baseline in this one; all share the same CPUs. Rounds alternate GraphQL and direct, each
// on fresh runs, and the best round of each is reported. CPU seconds per 1,000 rollouts (Node
// processes and Postgres) are reported too: unlike wall-clock rates they barely move with other
// load on a shared machine.
import type { RolloutRecord } from "../contracts/index.js";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { startControlPlane } from "./support/control-plane.js";
import { forkBenchChild } from "./support/child.js";
import { cpuMeter } from "./support/cpu.js";
import { rolloutBatches, textBytes } from "./support/rollouts.js";
import { progress, round } from "./support/stats.js";
import type { ReportInit, ReportResult, ReportRound } from "./support/report-rollouts-child.js";

const WORKERS = 4;
const ROLLOUTS_PER_WORKER = 2000;
const BATCH = 50;
const ROUNDS = 3;

const here = path.dirname(fileURLToPath(import.meta.url));

/** The baseline: the same columns and multi-row unnest INSERT the server uses, minus the job and
 * run-row checks, cursor bookkeeping, duplicate detection and notification. */
const DIRECT_SQL = `
INSERT INTO rollouts (run_id, seq, step, stage, shots, group_index, sample_index, question_id, segments,
  reward, reward_components, advantage, prompt_tokens, response_tokens, turns, tool_calls_valid,
  tool_calls_invalid, finish_reason)
SELECT $1, u.seq, u.step, u.stage, u.shots, u.g, u.s, u.q, u.seg::jsonb, u.r, u.rc::jsonb, u.adv,
  u.pt, u.rt, u.turns, u.tv, u.ti, u.fr
FROM unnest($2::bigint[], $3::int[], $4::int[], $5::int[], $6::int[], $7::int[], $8::text[], $9::text[],
  $10::float8[], $11::text[], $12::float8[], $13::int[], $14::int[], $15::int[], $16::int[], $17::int[], $18::text[])
  AS u(seq, step, stage, shots, g, s, q, seg, r, rc, adv, pt, rt, turns, tv, ti, fr)`;

function directParams(runId: string, firstSeq: number, rows: RolloutRecord[]): unknown[] {
  const col = <T>(f: (r: RolloutRecord) => T) => rows.map(f);
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

/** One connection per run, all at once, as many connections as the server's workers. */
async function insertDirect(pool: pg.Pool, runIds: string[], batches: RolloutRecord[][]): Promise<number> {
  const started = performance.now();
  await Promise.all(
    runIds.map(async (runId) => {
      const client = await pool.connect();
      try {
        let seq = 1;
        for (const rows of batches) {
          await client.query({ name: "bench_direct_insert", text: DIRECT_SQL, values: directParams(runId, seq, rows) });
          seq += rows.length;
        }
      } finally {
        client.release();
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

async function storedCount(pool: pg.Pool, runIds: string[]): Promise<number> {
  return (await pool.query("SELECT count(*)::int AS n FROM rollouts WHERE run_id = ANY($1::uuid[])", [runIds])).rows[0].n;
}

export default async function ingest(): Promise<Record<string, number | string>> {
  const cp = await startControlPlane();
  const direct = new pg.Pool({ connectionString: cp.t.databaseUrl, max: WORKERS });
  const reporter = forkBenchChild(path.join(here, "support", "report-rollouts-child.ts"), {
    url: cp.t.server.url,
    rollouts: ROLLOUTS_PER_WORKER,
    batch: BATCH,
  } satisfies ReportInit);
  try {
    const total = WORKERS * ROLLOUTS_PER_WORKER;
    const batches = rolloutBatches(ROLLOUTS_PER_WORKER, BATCH);
    const avgText = batches.flat().reduce((n, r) => n + textBytes(r), 0) / ROLLOUTS_PER_WORKER;
    const meter = await cpuMeter(direct);
    await reporter.next("ready");
    const newJobs = (tag: string) => Promise.all(Array.from({ length: WORKERS }, (_, i) => cp.trainJob(`${tag}-${i}`)));

    const viaGraphql = async (tag: string) => {
      const jobs = await newJobs(tag);
      const m = meter?.();
      reporter.send("round", jobs.map((j) => ({ token: j.token, jobId: j.jobId })) satisfies ReportRound);
      const res = await reporter.next<ReportResult>("done");
      const cpu = m?.read();
      const stored = await storedCount(
        direct,
        jobs.map((j) => j.runId),
      );
      if (stored !== total) throw new Error(`GraphQL round stored ${stored} rollouts, expected ${total}`);
      return {
        seconds: res.seconds,
        cpu_s: cpu ? cpu.node_s + cpu.postgres_s + res.cpu_s : NaN,
        parts: cpu ? { workers: res.cpu_s, server: cpu.node_s, postgres: cpu.postgres_s } : null,
      };
    };
    const viaPg = async (tag: string) => {
      const runIds = (await newJobs(tag)).map((j) => j.runId);
      const m = meter?.();
      const seconds = await insertDirect(direct, runIds, batches);
      const cpu = m?.read();
      const stored = await storedCount(direct, runIds);
      if (stored !== total) throw new Error(`direct round stored ${stored} rollouts, expected ${total}`);
      return { seconds, cpu_s: cpu ? cpu.node_s + cpu.postgres_s : NaN };
    };

    // Warm-up (JIT, connections, auth cache, statement plans), not measured.
    await viaGraphql("warm-gql");
    await viaPg("warm-pg");

    type Round = { seconds: number; cpu_s: number; parts?: { workers: number; server: number; postgres: number } | null };
    const best: { gql: Round; pg: Round } = { gql: { seconds: Infinity, cpu_s: Infinity }, pg: { seconds: Infinity, cpu_s: Infinity } };
    for (let r = 1; r <= ROUNDS; r++) {
      const g = await viaGraphql(`gql-${r}`);
      const d = await viaPg(`pg-${r}`);
      progress(
        `round ${r}: graphql ${round(total / g.seconds, 0)} rollouts/s (${round((g.cpu_s * 1000) / total, 3)} cpu-s/1k), ` +
          `pg ${round(total / d.seconds, 0)} rollouts/s (${round((d.cpu_s * 1000) / total, 3)} cpu-s/1k)`,
      );
      if (g.seconds < best.gql.seconds) best.gql = g;
      if (d.seconds < best.pg.seconds) best.pg = d;
    }
    reporter.send("round", null satisfies ReportRound);
    const rps = total / best.gql.seconds;
    const pgRps = total / best.pg.seconds;
    return {
      workers: WORKERS,
      rollouts_per_round: total,
      batch: BATCH,
      avg_text_bytes: Math.round(avgText),
      request_bytes: Buffer.byteLength(JSON.stringify(batches[0])),
      rollouts_per_s: round(rps, 0),
      mb_text_per_s: round((rps * avgText) / 1e6, 1),
      pg_rollouts_per_s: round(pgRps, 0),
      ratio_vs_pg: round(rps / pgRps, 2),
      target_ratio: 0.5,
      cpu_s_per_1k_rollouts: round((best.gql.cpu_s * 1000) / total, 3),
      pg_cpu_s_per_1k_rollouts: round((best.pg.cpu_s * 1000) / total, 3),
      // The same comparison in CPU cost (both sides' Node processes plus Postgres): what the ratio
      // tends to on a machine the benchmark has to itself.
      cpu_ratio_vs_pg: round(best.pg.cpu_s / best.gql.cpu_s, 2),
      // Where the GraphQL path's CPU goes, per 1,000 rollouts: worker clients, server, Postgres.
      cpu_s_per_1k_workers: best.gql.parts ? round((best.gql.parts.workers * 1000) / total, 3) : "n/a",
      cpu_s_per_1k_server: best.gql.parts ? round((best.gql.parts.server * 1000) / total, 3) : "n/a",
      cpu_s_per_1k_postgres: best.gql.parts ? round((best.gql.parts.postgres * 1000) / total, 3) : "n/a",
    };
  } finally {
    await reporter.stop();
    await direct.end();
    await cp.close();
  }
}
