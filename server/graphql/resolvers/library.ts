// Curricula and demonstration sets: the inputs a run's ICRL schedule is built from.
import type { Resolvers } from "../../generated/graphql.js";
import { curriculumSchema } from "../../../contracts/index.js";
import { apiError, badInput, isUniqueViolation, notFound } from "../../errors.js";
import { can, checkId, maybeId, requireName } from "../guards.js";
import { Prisma } from "../../generated/prisma/client.js";

function validateCurriculum(stages: unknown, advanceRules: unknown) {
  const parsed = curriculumSchema.safeParse({ stages, advanceRules: advanceRules ?? undefined });
  if (!parsed.success) {
    const fieldErrors = parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    throw badInput(`Invalid curriculum: ${fieldErrors.map((e) => `${e.path}: ${e.message}`).join("; ")}`, fieldErrors);
  }
  return parsed.data;
}

function validateDemos(items: { question: string; trajectory: string }[]) {
  const fieldErrors = items.flatMap((d, i) => [
    ...(d.question.trim() ? [] : [{ path: `items.${i}.question`, message: "must not be empty" }]),
    ...(d.trajectory.trim() ? [] : [{ path: `items.${i}.trajectory`, message: "must not be empty" }]),
  ]);
  if (!items.length) fieldErrors.push({ path: "items", message: "a demonstration set needs at least one item" });
  if (fieldErrors.length) throw badInput(`Invalid demonstration set: ${fieldErrors.map((e) => `${e.path}: ${e.message}`).join("; ")}`, fieldErrors);
}

function conflict(err: unknown, what: string, name: string | null | undefined): never {
  if (isUniqueViolation(err)) throw apiError("CONFLICT", `A ${what} named ${JSON.stringify(name)} already exists; pick another name.`);
  throw err;
}

export const libraryResolvers: Resolvers = {
  Query: {
    curriculum: (_, { id }, ctx) => {
      can(ctx, "read");
      return ctx.prisma.curriculum.findUnique({ where: { id: checkId(id, "Curriculum") } });
    },
    curricula: (_, { includeArchived }, ctx) => {
      can(ctx, "read");
      return ctx.prisma.curriculum.findMany({ where: includeArchived ? {} : { archived: false }, orderBy: { createdAt: "desc" } });
    },
    demonstrationSet: (_, { id }, ctx) => {
      can(ctx, "read");
      return ctx.prisma.demonstrationSet.findUnique({ where: { id: checkId(id, "DemonstrationSet") } });
    },
    demonstrationSets: (_, { includeArchived }, ctx) => {
      can(ctx, "read");
      return ctx.prisma.demonstrationSet.findMany({ where: includeArchived ? {} : { archived: false }, orderBy: { createdAt: "desc" } });
    },
  },
  Mutation: {
    createCurriculum: async (_, { input }, ctx) => {
      can(ctx, "write");
      const name = requireName(input.name, "Curriculum");
      const c = validateCurriculum(input.stages, input.advanceRules);
      const demoId = maybeId(input.demonstrationSetId, "DemonstrationSet");
      if (demoId && !(await ctx.prisma.demonstrationSet.findUnique({ where: { id: demoId } }))) throw notFound("DemonstrationSet", demoId);
      try {
        return await ctx.prisma.curriculum.create({
          data: { name, stages: c.stages, advanceRules: c.advanceRules ?? undefined, demonstrationSetId: demoId },
        });
      } catch (err) {
        conflict(err, "curriculum", input.name);
      }
    },
    updateCurriculum: async (_, { id, input }, ctx) => {
      can(ctx, "write");
      const existing = await ctx.prisma.curriculum.findUnique({ where: { id: checkId(id, "Curriculum") } });
      if (!existing) throw notFound("Curriculum", id);
      const name = input.name == null ? undefined : requireName(input.name, "Curriculum");
      // Omitted keeps a setting; an explicit null clears it (no advance rules, the task's own demonstrations).
      const rules = input.advanceRules === null ? null : (input.advanceRules ?? existing.advanceRules);
      const c = validateCurriculum(input.stages ?? existing.stages, rules);
      const demoId = maybeId(input.demonstrationSetId, "DemonstrationSet");
      if (demoId && !(await ctx.prisma.demonstrationSet.findUnique({ where: { id: demoId } }))) throw notFound("DemonstrationSet", demoId);
      try {
        return await ctx.prisma.curriculum.update({
          where: { id },
          data: {
            ...(name ? { name } : {}),
            stages: c.stages,
            advanceRules: c.advanceRules?.length ? c.advanceRules : Prisma.DbNull,
            ...(input.demonstrationSetId === null ? { demonstrationSetId: null } : demoId ? { demonstrationSetId: demoId } : {}),
          },
        });
      } catch (err) {
        conflict(err, "curriculum", input.name);
      }
    },
    archiveCurriculum: async (_, { id, archived }, ctx) => {
      can(ctx, "write");
      if (!(await ctx.prisma.curriculum.findUnique({ where: { id: checkId(id, "Curriculum") } }))) throw notFound("Curriculum", id);
      return ctx.prisma.curriculum.update({ where: { id }, data: { archived: archived ?? true } });
    },
    createDemonstrationSet: async (_, { input }, ctx) => {
      can(ctx, "write");
      validateDemos(input.items);
      try {
        return await ctx.prisma.demonstrationSet.create({ data: { name: input.name, task: input.task, items: input.items } });
      } catch (err) {
        conflict(err, "demonstration set", input.name);
      }
    },
    updateDemonstrationSet: async (_, { id, input }, ctx) => {
      can(ctx, "write");
      if (!(await ctx.prisma.demonstrationSet.findUnique({ where: { id: checkId(id, "DemonstrationSet") } }))) throw notFound("DemonstrationSet", id);
      if (input.items) validateDemos(input.items);
      try {
        return await ctx.prisma.demonstrationSet.update({
          where: { id },
          data: { ...(input.name ? { name: input.name } : {}), ...(input.items ? { items: input.items } : {}) },
        });
      } catch (err) {
        conflict(err, "demonstration set", input.name);
      }
    },
    archiveDemonstrationSet: async (_, { id, archived }, ctx) => {
      can(ctx, "write");
      if (!(await ctx.prisma.demonstrationSet.findUnique({ where: { id: checkId(id, "DemonstrationSet") } }))) throw notFound("DemonstrationSet", id);
      return ctx.prisma.demonstrationSet.update({ where: { id }, data: { archived: archived ?? true } });
    },
  },
  Curriculum: {
    stages: (c) => c.stages as never,
    advanceRules: (c) => (c.advanceRules ?? null) as never,
    demonstrationSet: (c, _, ctx) =>
      c.demonstrationSetId ? ctx.prisma.demonstrationSet.findUnique({ where: { id: c.demonstrationSetId as string } }) : null,
  },
  DemonstrationSet: {
    items: (d) => d.items as never,
  },
};
