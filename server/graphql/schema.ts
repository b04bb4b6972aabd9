// The executable schema: schema.graphql (the contract) + resolvers from ./resolvers.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { makeExecutableSchema } from "@graphql-tools/schema";
import type { Resolvers } from "../generated/graphql.js";
import { BigIntScalar, DateTime, JSONScalar } from "./scalars.js";
import { adminResolvers } from "./resolvers/admin.js";
import { benchmarkResolvers } from "./resolvers/benchmarks.js";
import { datasetResolvers } from "./resolvers/datasets.js";
import { experimentResolvers } from "./resolvers/experiments.js";
import { libraryResolvers } from "./resolvers/library.js";
import { liveCursorResolvers } from "./resolvers/live-cursor.js";
import { rolloutResolvers } from "./resolvers/rollouts.js";
import { rolloutDatasetItemResolvers } from "./resolvers/rollout-dataset-item.js";
import { runResolvers } from "./resolvers/runs.js";
import { studyResolvers } from "./resolvers/studies.js";
import { subscriptionResolvers } from "./resolvers/subscriptions.js";
import { workerResolvers } from "./resolvers/workers.js";

export const typeDefs = readFileSync(fileURLToPath(new URL("../../schema.graphql", import.meta.url)), "utf8");

const resolvers: Resolvers[] = [
  { DateTime, JSON: JSONScalar, BigInt: BigIntScalar } as Resolvers,
  adminResolvers,
  benchmarkResolvers,
  datasetResolvers,
  experimentResolvers,
  libraryResolvers,
  liveCursorResolvers,
  rolloutResolvers,
  rolloutDatasetItemResolvers,
  runResolvers,
  studyResolvers,
  subscriptionResolvers,
  workerResolvers,
];

export function buildSchema() {
  return makeExecutableSchema({ typeDefs, resolvers: resolvers as never });
}
