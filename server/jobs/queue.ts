// The job queue: Postgres rows leased with FOR UPDATE SKIP LOCKED, so any number of workers (and
// server replicas) can claim concurrently and each job is leased exactly once. Leases expire unless
// heartbeated; expired jobs go back to the queue (or fail after maxAttempts) and keep their place.
import type pg from "pg";
import { notifyPayload } from "../events/hub.js";
import { apiError } from "../errors.js";
import { inTransaction } from "../db/transaction.js";
import type { JobRow } from "../store/job-row.js";

export interface WorkerCapabilities {
  backend?: string;
  gpuMemoryMb?: number;
  memoryMb?: number;
  [k: string]: unknown;
}

type Queryable = pg.Pool | pg.PoolClient;

/** Bump a run's version and tell subscribers; call inside the transaction that changed it. */
export async function touchRun(c: Queryable, runId: string, set: string, params: unknown[] = []): Promise<void> {
  const res = await c.query(`UPDATE runs SET ${set ? set + ", " : ""}version = version + 1, updated_at = now() WHERE id = $1 RETURNING version`, [
    runId,
    ...params,
  ]);
  if (res.rows[0]) await c.query("SELECT pg_notify($1, $2)", notifyPayload(`run:${runId}`, res.rows[0].version));
}

export async function touchBenchmarkRun(c: Queryable, id: string, set: string, params: unknown[] = []): Promise<void> {
  const res = await c.query(
    // item_seq doubles as the benchmarkProgress cursor: a status change advances it too, so
    // subscribers see "finished" as an event with a cursor of its own.
    `UPDATE benchmark_runs SET ${set ? set + ", " : ""}version = version + 1, item_seq = item_seq + 1 WHERE id = $1 RETURNING item_seq`,
    [id, ...params],
  );
  if (res.rows[0]) await c.query("SELECT pg_notify($1, $2)", notifyPayload(`bench:${id}`, res.rows[0].item_seq));
}

export async function enqueueJob(
  c: Queryable,
  job: { kind: "TRAIN" | "EVAL"; runId?: string; benchmarkRunId?: string; requirements?: unknown; maxAttempts?: number },
): Promise<JobRow> {
  const res = await c.query(
    `INSERT INTO jobs (kind, run_id, benchmark_run_id, requirements, max_attempts)
     VALUES ($1, $2, $3, $4::jsonb, $5) RETURNING *`,
    [job.kind, job.runId ?? null, job.benchmarkRunId ?? null, JSON.stringify(job.requirements ?? {}), job.maxAttempts ?? 3],
  );
  const row = res.rows[0] as JobRow;
  await c.query("SELECT pg_notify($1, $2)", notifyPayload("jobs", row.seq));
  return row;
}

/** Requeue (or fail) every job whose lease ran out. Safe to call from any number of processes. */
export async function expireLeases(pool: pg.Pool): Promise<JobRow[]> {
  return inTransaction(pool, async (c) => {
    const res = await c.query(
      `WITH expired AS (
         SELECT id FROM jobs WHERE status = 'LEASED' AND lease_expires_at < now() FOR UPDATE SKIP LOCKED
       )
       UPDATE jobs j SET
         attempts = j.attempts + 1,
         status = CASE WHEN j.cancel_requested THEN 'CANCELLED'::"JobStatus"
                       WHEN j.attempts + 1 >= j.max_attempts THEN 'FAILED'::"JobStatus"
                       ELSE 'QUEUED'::"JobStatus" END,
         error = 'lease expired: the worker stopped heartbeating (attempt ' || (j.attempts + 1) || ' of ' || j.max_attempts || ')',
         lease_owner_id = NULL, lease_expires_at = NULL,
         seq = nextval(pg_get_serial_sequence('jobs', 'seq')), updated_at = now()
       FROM expired WHERE j.id = expired.id
       RETURNING j.*`,
    );
    const jobs = res.rows as JobRow[];
    for (const job of jobs) await afterJobStatusChange(c, job);
    return jobs;
  });
}

/** Mirror a job's new status onto its run or benchmark run and announce requeued jobs. */
async function afterJobStatusChange(c: pg.PoolClient, job: JobRow, result?: unknown): Promise<void> {
  const runStatus = job.status === "QUEUED" ? "QUEUED" : job.status === "LEASED" ? "RUNNING" : job.status;
  const finished = ["SUCCEEDED", "FAILED", "CANCELLED"].includes(runStatus);
  if (job.run_id) {
    await touchRun(
      c,
      job.run_id,
      `status = $2::"RunStatus"${runStatus === "RUNNING" ? ", started_at = coalesce(started_at, now())" : ""}${
        finished ? ", finished_at = now()" : ", finished_at = NULL"
      }, error = $3`,
      [runStatus, job.status === "FAILED" ? ((job as JobRow & { error?: string }).error ?? "failed") : null],
    );
  }
  if (job.benchmark_run_id) {
    const aggregate =
      result && typeof result === "object" && "aggregate" in (result as object) ? (result as { aggregate: unknown }).aggregate : undefined;
    await touchBenchmarkRun(
      c,
      job.benchmark_run_id,
      `status = $2::"RunStatus"${runStatus === "RUNNING" ? ", started_at = coalesce(started_at, now())" : ""}${
        finished ? ", finished_at = now()" : ""
      }, error = $3${aggregate !== undefined ? ", aggregate = $4::jsonb" : ""}`,
      [
        runStatus,
        job.status === "FAILED" ? ((job as JobRow & { error?: string }).error ?? "failed") : null,
        ...(aggregate !== undefined ? [JSON.stringify(aggregate)] : []),
      ],
    );
  }
  if (job.status === "QUEUED") await c.query("SELECT pg_notify($1, $2)", notifyPayload("jobs", job.seq));
}

export async function claimJob(
  pool: pg.Pool,
  worker: { id: string; capabilities: WorkerCapabilities },
  options: { kinds?: string[] | null; leaseSeconds: number },
): Promise<JobRow | null> {
  const caps = worker.capabilities ?? {};
  return inTransaction(pool, async (c) => {
    const res = await c.query(
      `WITH candidate AS (
         SELECT id FROM jobs
         WHERE status = 'QUEUED'
           AND ($1::text[] IS NULL OR kind::text = ANY($1::text[]))
           AND (requirements->>'backend' IS NULL OR requirements->>'backend' = $2)
           AND (requirements->>'minGpuMemoryMb' IS NULL OR (requirements->>'minGpuMemoryMb')::float8 <= $3)
           AND (requirements->>'minMemoryMb' IS NULL OR (requirements->>'minMemoryMb')::float8 <= $4)
         ORDER BY created_at, id
         FOR UPDATE SKIP LOCKED
         LIMIT 1
       )
       UPDATE jobs j SET status = 'LEASED', lease_owner_id = $5, lease_expires_at = now() + make_interval(secs => $6),
         updated_at = now(), error = NULL
       FROM candidate WHERE j.id = candidate.id
       RETURNING j.*`,
      [
        options.kinds?.length ? options.kinds : null,
        String(caps.backend ?? "cpu"),
        Number(caps.gpuMemoryMb ?? 0),
        Number(caps.memoryMb ?? Number.MAX_SAFE_INTEGER),
        worker.id,
        options.leaseSeconds,
      ],
    );
    const job = (res.rows[0] as JobRow | undefined) ?? null;
    if (job) await afterJobStatusChange(c, job);
    await c.query("UPDATE workers SET last_seen_at = now(), status = 'ONLINE' WHERE id = $1", [worker.id]);
    return job;
  });
}

/** Lock a job the worker holds, or explain why it cannot act on it. */
async function lockHeldJob(c: pg.PoolClient, jobId: string, workerId: string): Promise<JobRow> {
  const res = await c.query("SELECT * FROM jobs WHERE id = $1 FOR UPDATE", [jobId]);
  const job = res.rows[0] as JobRow | undefined;
  if (!job) throw apiError("NOT_FOUND", `Job ${jobId} does not exist.`);
  if (job.lease_owner_id !== workerId || job.status !== "LEASED") {
    throw apiError(
      "FORBIDDEN",
      job.status === "LEASED"
        ? `Job ${jobId} is leased by another worker.`
        : `This worker does not hold job ${jobId} (status ${job.status}); its lease may have expired. Claim a new job.`,
    );
  }
  return job;
}

export async function assertHoldsJob(pool: pg.Pool, jobId: string, workerId: string): Promise<JobRow> {
  const res = await pool.query("SELECT * FROM jobs WHERE id = $1", [jobId]);
  const job = res.rows[0] as JobRow | undefined;
  if (!job) throw apiError("NOT_FOUND", `Job ${jobId} does not exist.`);
  if (job.lease_owner_id !== workerId || job.status !== "LEASED") {
    throw apiError("FORBIDDEN", `This worker does not hold job ${jobId} (status ${job.status}).`);
  }
  return job;
}

export async function heartbeat(pool: pg.Pool, jobId: string, workerId: string, leaseSeconds: number) {
  return inTransaction(pool, async (c) => {
    await lockHeldJob(c, jobId, workerId);
    const res = await c.query(
      `UPDATE jobs SET lease_expires_at = now() + make_interval(secs => $2), updated_at = now() WHERE id = $1
       RETURNING lease_expires_at, cancel_requested`,
      [jobId, leaseSeconds],
    );
    await c.query("UPDATE workers SET last_seen_at = now(), status = 'ONLINE' WHERE id = $1", [workerId]);
    return { leaseExpiresAt: res.rows[0].lease_expires_at as Date, cancelled: res.rows[0].cancel_requested as boolean };
  });
}

export async function finishJob(
  pool: pg.Pool,
  jobId: string,
  workerId: string,
  outcome: { kind: "complete"; result?: unknown } | { kind: "fail"; error: string; retry: boolean } | { kind: "release" },
): Promise<JobRow> {
  return inTransaction(pool, async (c) => {
    const held = await lockHeldJob(c, jobId, workerId);
    let status: string;
    let attempts = held.attempts;
    let error: string | null = null;
    if (outcome.kind === "complete") status = held.cancel_requested ? "CANCELLED" : "SUCCEEDED";
    else if (outcome.kind === "release") status = held.cancel_requested ? "CANCELLED" : "QUEUED";
    else {
      attempts += 1;
      error = outcome.error;
      status = held.cancel_requested ? "CANCELLED" : outcome.retry && attempts < held.max_attempts ? "QUEUED" : "FAILED";
    }
    const res = await c.query(
      `UPDATE jobs SET status = $2::"JobStatus", attempts = $3, error = $4, lease_owner_id = NULL, lease_expires_at = NULL,
         seq = CASE WHEN $2 = 'QUEUED' THEN nextval(pg_get_serial_sequence('jobs', 'seq')) ELSE seq END, updated_at = now()
       WHERE id = $1 RETURNING *`,
      [jobId, status, attempts, error],
    );
    const job = res.rows[0] as JobRow;
    await afterJobStatusChange(c, job, outcome.kind === "complete" ? outcome.result : undefined);
    return job;
  });
}

/** Cancel: queued jobs stop at once; leased ones are told through their next heartbeat. */
export async function requestCancel(pool: pg.Pool, where: { runId?: string; benchmarkRunId?: string }): Promise<void> {
  await inTransaction(pool, async (c) => {
    const col = where.runId ? "run_id" : "benchmark_run_id";
    const id = where.runId ?? where.benchmarkRunId;
    const res = await c.query(
      `UPDATE jobs SET cancel_requested = true,
         status = CASE WHEN status = 'QUEUED' THEN 'CANCELLED'::"JobStatus" ELSE status END, updated_at = now()
       WHERE ${col} = $1 AND status IN ('QUEUED', 'LEASED') RETURNING *`,
      [id],
    );
    const jobs = res.rows as JobRow[];
    const anyLeased = jobs.some((j) => j.status === "LEASED");
    if (!anyLeased) {
      // Nothing running: the run itself is cancelled now.
      if (where.runId) await touchRun(c, where.runId, `status = 'CANCELLED', finished_at = now()`);
      else await touchBenchmarkRun(c, where.benchmarkRunId!, `status = 'CANCELLED', finished_at = now()`);
    }
  });
}
