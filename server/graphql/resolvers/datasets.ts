import path from "node:path";
import type { Resolvers } from "../../generated/graphql.js";
import { apiError, badInput, isUniqueViolation, notFound } from "../../errors.js";
import { DatasetFormatError, importDatasetFile } from "../../datasets/import.js";
import { can, checkId } from "../guards.js";
import { decodeCursor, pageSize, TIME_ID, toPage } from "../pagination.js";
import { datasetItemsPage } from "../../store/dataset-items.js";

export const datasetResolvers: Resolvers = {
  Query: {
    dataset: (_, { id }, ctx) => {
      can(ctx, "read");
      return ctx.prisma.dataset.findUnique({ where: { id: checkId(id, "Dataset") } });
    },
    datasets: async (_, { first, after, includeArchived }, ctx) => {
      can(ctx, "read");
      const take = pageSize(first);
      const where = includeArchived ? {} : { archived: false };
      const c = decodeCursor(after, TIME_ID);
      const rows = await ctx.prisma.dataset.findMany({
        where: c ? { AND: [where, { OR: [{ createdAt: { lt: new Date(c[0]) } }, { createdAt: new Date(c[0]), id: { lt: c[1] } }] }] } : where,
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        take: take + 1,
      });
      return { ...toPage(rows, take, (r) => [r.createdAt.toISOString(), r.id]), totalCount: await ctx.prisma.dataset.count({ where }) };
    },
  },
  Mutation: {
    importDataset: async (_, { input }, ctx) => {
      const principal = can(ctx, "write");
      if (!input.name.trim()) throw badInput("Dataset name must not be empty.", [{ path: "name", message: "must not be empty" }]);
      if ((input.path == null) === (input.artifactId == null)) {
        throw badInput("Give exactly one of path (a file on the server) or artifactId (an uploaded DATASET artifact).");
      }
      let filePath: string;
      let source: string;
      if (input.path != null) {
        // Reading arbitrary server files is an admin's privilege; members upload instead.
        if (principal.role !== "ADMIN")
          throw apiError("FORBIDDEN", "Importing from a server path needs an admin key; upload the file as an artifact and pass artifactId.");
        filePath = path.resolve(input.path);
        source = `file:${filePath}`;
      } else {
        const artifact = await ctx.prisma.artifact.findUnique({ where: { id: checkId(input.artifactId!, "Artifact") } });
        if (!artifact) throw notFound("Artifact", input.artifactId!);
        if (artifact.kind !== "DATASET") throw badInput(`Artifact ${artifact.id} is a ${artifact.kind}, not a DATASET.`);
        filePath = ctx.artifacts.pathOf(artifact.storageKey);
        source = `artifact:${artifact.id}:${artifact.name}`;
      }
      try {
        const id = await importDatasetFile(ctx.pool, {
          name: input.name.trim(),
          kind: input.kind,
          format: input.format,
          path: filePath,
          source,
          defaultSplit: input.defaultSplit ?? "train",
        });
        return ctx.prisma.dataset.findUniqueOrThrow({ where: { id } });
      } catch (err) {
        if (err instanceof DatasetFormatError) throw badInput(`Cannot import ${input.format} dataset: ${err.message}`);
        if (isUniqueViolation(err)) throw apiError("CONFLICT", `A dataset named ${JSON.stringify(input.name)} already exists; pick another name.`);
        throw err;
      }
    },
    archiveDataset: async (_, { id, archived }, ctx) => {
      can(ctx, "write");
      if (!(await ctx.prisma.dataset.findUnique({ where: { id: checkId(id, "Dataset") } }))) throw notFound("Dataset", id);
      return ctx.prisma.dataset.update({ where: { id }, data: { archived: archived ?? true } });
    },
  },
  Dataset: {
    items: (d, { split, first, after }, ctx) => datasetItemsPage(ctx.pool, d.id as string, split, first, after),
  },
};
