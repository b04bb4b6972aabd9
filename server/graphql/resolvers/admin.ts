// Operators' view: who am I, workers, the job queue, artifacts, API keys.
import type { Resolvers } from "../../generated/graphql.js";
import { apiError, badInput, notFound } from "../../errors.js";
import { createApiKey } from "../../auth/keys.js";
import type { JobRow } from "../../jobs/queue.js";
import { can, checkId } from "../guards.js";
import { decodeCursor, encodeCursor, pageSize } from "../pagination.js";

/** Raw job rows (snake_case, from the queue's SQL) in the shape the Job type resolves from. */
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

export const adminResolvers: Resolvers = {
  Query: {
    viewer: (_, __, ctx) => {
      const p = ctx.principal;
      if (!p) throw apiError("UNAUTHENTICATED", "Missing or invalid API key.");
      return { keyId: p.keyId, role: p.role, workerId: p.workerId };
    },
    workers: (_, __, ctx) => {
      can(ctx, "read");
      return ctx.prisma.worker.findMany({ orderBy: { createdAt: "desc" } });
    },
    jobs: async (_, { first, after, status }, ctx) => {
      can(ctx, "read");
      const take = pageSize(first);
      const c = decodeCursor(after);
      const res = await ctx.pool.query(
        `SELECT * FROM jobs WHERE ($1::text[] IS NULL OR status::text = ANY($1)) AND seq < $2 ORDER BY seq DESC LIMIT $3`,
        [status?.length ? status : null, c ? c[0] : "9223372036854775807", take + 1],
      );
      const count = await ctx.pool.query(`SELECT count(*)::int AS n FROM jobs WHERE ($1::text[] IS NULL OR status::text = ANY($1))`, [
        status?.length ? status : null,
      ]);
      const rows = res.rows.map(jobFromRow);
      const hasNextPage = rows.length > take;
      const nodes = hasNextPage ? rows.slice(0, take) : rows;
      const last = nodes[nodes.length - 1];
      return { nodes, pageInfo: { endCursor: last ? encodeCursor([last.seq]) : null, hasNextPage }, totalCount: count.rows[0].n };
    },
    artifact: (_, { id }, ctx) => {
      can(ctx, "read");
      return ctx.prisma.artifact.findUnique({ where: { id: checkId(id, "Artifact") } });
    },
    artifacts: (_, { runId, kind }, ctx) => {
      can(ctx, "read");
      return ctx.prisma.artifact.findMany({
        where: { ...(runId ? { runId: checkId(runId, "Run") } : {}), ...(kind ? { kind } : {}) },
        orderBy: { createdAt: "desc" },
        take: 1000,
      });
    },
    apiKeys: (_, __, ctx) => {
      can(ctx, "admin");
      return ctx.prisma.apiKey.findMany({ orderBy: { createdAt: "desc" } });
    },
  },
  Mutation: {
    createApiKey: async (_, { name, role }, ctx) => {
      can(ctx, "admin");
      if (!name.trim()) throw badInput("API key name must not be empty.");
      return createApiKey(ctx.prisma, { name: name.trim(), role });
    },
    revokeApiKey: async (_, { id }, ctx) => {
      const p = can(ctx, "admin");
      const key = await ctx.prisma.apiKey.findUnique({ where: { id: checkId(id, "ApiKey") } });
      if (!key) throw notFound("ApiKey", id);
      if (key.id === p.keyId) throw badInput("You cannot revoke the key you are using; use another admin key.");
      const out = await ctx.prisma.apiKey.update({ where: { id }, data: { revokedAt: key.revokedAt ?? new Date() } });
      ctx.auth.forget();
      return out;
    },
  },
  Job: {
    run: (j, _, ctx) => (j.runId ? ctx.prisma.run.findUnique({ where: { id: j.runId as string } }) : null),
    benchmarkRun: (j, _, ctx) => (j.benchmarkRunId ? ctx.prisma.benchmarkRun.findUnique({ where: { id: j.benchmarkRunId as string } }) : null),
    leaseOwner: (j, _, ctx) => (j.leaseOwnerId ? ctx.prisma.worker.findUnique({ where: { id: j.leaseOwnerId as string } }) : null),
    cursor: (j) => (j as { seq: bigint }).seq as never,
  },
  Artifact: {
    run: (a, _, ctx) => (a.runId ? ctx.prisma.run.findUnique({ where: { id: a.runId as string } }) : null),
    downloadPath: (a) => `/artifacts/${a.id}`,
  },
};
