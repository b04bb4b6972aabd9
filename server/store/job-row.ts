// The queue's SQL returns jobs rows as they are (snake_case); the Job GraphQL type resolves from
// camelCase fields, so every place that hands a raw job row to GraphQL goes through jobFromRow.

export interface JobRow {
  id: string;
  seq: string;
  kind: "TRAIN" | "EVAL";
  status: string;
  run_id: string | null;
  benchmark_run_id: string | null;
  lease_owner_id: string | null;
  lease_expires_at: Date | null;
  attempts: number;
  max_attempts: number;
  cancel_requested: boolean;
}

export function jobFromRow(r: JobRow & { requirements?: unknown; error?: string | null; created_at?: Date; updated_at?: Date }) {
  return {
    id: r.id,
    kind: r.kind,
    status: r.status,
    runId: r.run_id,
    benchmarkRunId: r.benchmark_run_id,
    requirements: r.requirements ?? {},
    leaseOwnerId: r.lease_owner_id,
    leaseExpiresAt: r.lease_expires_at,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    cancelRequested: r.cancel_requested,
    error: r.error ?? null,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    seq: BigInt(r.seq),
  };
}
