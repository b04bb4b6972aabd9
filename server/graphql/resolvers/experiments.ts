import type { Resolvers } from "../../generated/graphql.js";
import { apiError, badInput, isUniqueViolation, notFound } from "../../errors.js";
import { can, checkId } from "../guards.js";
import { decodeCursor, pageSize, TIME_ID, toPage } from "../pagination.js";

function checkName(name: string): string {
  const n = name.trim();
  if (!n) throw badInput("Experiment name must not be empty.", [{ path: "name", message: "must not be empty" }]);
  if (n.length > 200) throw badInput("Experiment name is longer than 200 characters.", [{ path: "name", message: "at most 200 characters" }]);
  return n;
}

export const experimentResolvers: Resolvers = {
  Query: {
    experiment: async (_, { id }, ctx) => {
      can(ctx, "read");
      return ctx.prisma.experiment.findUnique({ where: { id: checkId(id, "Experiment") } });
    },
    experiments: async (_, { first, after, includeArchived, nameContains }, ctx) => {
      can(ctx, "read");
      const take = pageSize(first);
      const where = {
        ...(includeArchived ? {} : { archived: false }),
        ...(nameContains ? { name: { contains: nameContains, mode: "insensitive" as const } } : {}),
      };
      const c = decodeCursor(after, TIME_ID);
      const rows = await ctx.prisma.experiment.findMany({
        where: c ? { AND: [where, { OR: [{ createdAt: { lt: new Date(c[0]) } }, { createdAt: new Date(c[0]), id: { lt: c[1] } }] }] } : where,
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        take: take + 1,
      });
      const page = toPage(rows, take, (r) => [r.createdAt.toISOString(), r.id]);
      return { ...page, totalCount: await ctx.prisma.experiment.count({ where }) };
    },
  },
  Mutation: {
    createExperiment: async (_, { name, description, tags }, ctx) => {
      can(ctx, "write");
      try {
        return await ctx.prisma.experiment.create({ data: { name: checkName(name), description: description ?? "", tags: tags ?? [] } });
      } catch (err) {
        if (isUniqueViolation(err)) throw apiError("CONFLICT", `An experiment named ${JSON.stringify(name)} already exists; pick another name.`);
        throw err;
      }
    },
    updateExperiment: async (_, { id, name, description, tags }, ctx) => {
      can(ctx, "write");
      const existing = await ctx.prisma.experiment.findUnique({ where: { id: checkId(id, "Experiment") } });
      if (!existing) throw notFound("Experiment", id);
      try {
        return await ctx.prisma.experiment.update({
          where: { id },
          data: {
            ...(name != null ? { name: checkName(name) } : {}),
            ...(description != null ? { description } : {}),
            ...(tags != null ? { tags } : {}),
          },
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw apiError("CONFLICT", `An experiment named ${JSON.stringify(name)} already exists.`);
        throw err;
      }
    },
    archiveExperiment: async (_, { id, archived }, ctx) => {
      can(ctx, "write");
      const existing = await ctx.prisma.experiment.findUnique({ where: { id: checkId(id, "Experiment") } });
      if (!existing) throw notFound("Experiment", id);
      return ctx.prisma.experiment.update({ where: { id }, data: { archived: archived ?? true } });
    },
  },
  Experiment: {
    runs: async (exp, { first, after, status }, ctx) => {
      const take = pageSize(first);
      const where = { experimentId: exp.id as string, ...(status ? { status } : {}) };
      const c = decodeCursor(after, TIME_ID);
      const rows = await ctx.prisma.run.findMany({
        where: c ? { AND: [where, { OR: [{ createdAt: { lt: new Date(c[0]) } }, { createdAt: new Date(c[0]), id: { lt: c[1] } }] }] } : where,
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        take: take + 1,
      });
      const page = toPage(rows, take, (r) => [r.createdAt.toISOString(), r.id]);
      return { ...page, totalCount: await ctx.prisma.run.count({ where }) };
    },
  },
};
