// Operators' view: who am I, workers, the job queue, artifacts, API keys.
import type { Resolvers } from "../../generated/graphql.js";
import { apiError, badInput, notFound } from "../../errors.js";
import { createApiKey } from "../../auth/keys.js";
import { jobsPage } from "../../store/jobs.js";
import { workerStatus } from "../../jobs/worker-liveness.js";
import { can, checkId } from "../guards.js";

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
    jobs: (_, { first, after, status }, ctx) => {
      can(ctx, "read");
      return jobsPage(ctx.pool, status, first, after);
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
  Worker: {
    status: (w, _, ctx) => workerStatus(w as { status: string; lastSeenAt: Date }, ctx.config.leaseSeconds),
  },
  Artifact: {
    run: (a, _, ctx) => (a.runId ? ctx.prisma.run.findUnique({ where: { id: a.runId as string } }) : null),
    downloadPath: (a) => `/artifacts/${a.id}`,
  },
};
