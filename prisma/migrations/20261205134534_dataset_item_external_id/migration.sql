-- Rollouts name their dataset item by external id (Rollout.questionId), and Rollout.datasetItem
-- looks a page of them up in one query, which without this index reads every item of the dataset.
-- CreateIndex
CREATE INDEX "dataset_items_dataset_id_external_id_idx" ON "dataset_items"("dataset_id", "external_id");
