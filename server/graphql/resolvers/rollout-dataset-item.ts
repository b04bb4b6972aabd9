// Rollout.datasetItem: the question a rollout answered and its gold answers, from the run's dataset.
import type { Resolvers } from "../../generated/graphql.js";
import { lookupDatasetItem } from "../../store/dataset-item-lookup.js";

export const rolloutDatasetItemResolvers: Resolvers = {
  Rollout: {
    datasetItem: (rollout, _, ctx) => lookupDatasetItem(ctx.pool, ctx, rollout.runId as string, rollout.questionId as string),
  },
};
