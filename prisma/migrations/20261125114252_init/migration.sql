-- CreateEnum
CREATE TYPE "RunStatus" AS ENUM ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "SegmentKind" AS ENUM ('MODEL', 'TOOL_CALL', 'TOOL_RESULT', 'SYSTEM');

-- CreateEnum
CREATE TYPE "DatasetKind" AS ENUM ('QA', 'MATH');

-- CreateEnum
CREATE TYPE "JobKind" AS ENUM ('TRAIN', 'EVAL');

-- CreateEnum
CREATE TYPE "JobStatus" AS ENUM ('QUEUED', 'LEASED', 'SUCCEEDED', 'FAILED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "ArtifactKind" AS ENUM ('ADAPTER', 'CHECKPOINT', 'REPORT', 'DATASET');

-- CreateEnum
CREATE TYPE "Role" AS ENUM ('ADMIN', 'MEMBER', 'WORKER');

-- CreateEnum
CREATE TYPE "WorkerStatus" AS ENUM ('ONLINE', 'OFFLINE');

-- CreateTable
CREATE TABLE "experiments" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "archived" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "experiments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "demonstration_sets" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "task" "DatasetKind" NOT NULL,
    "items" JSONB NOT NULL,
    "archived" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "demonstration_sets_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "curricula" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "stages" JSONB NOT NULL,
    "advance_rules" JSONB,
    "demonstration_set_id" UUID,
    "archived" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "curricula_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "datasets" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "kind" "DatasetKind" NOT NULL,
    "item_count" INTEGER NOT NULL,
    "source" TEXT NOT NULL,
    "content_hash" TEXT NOT NULL,
    "splits" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "archived" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "datasets_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "dataset_items" (
    "id" BIGSERIAL NOT NULL,
    "dataset_id" UUID NOT NULL,
    "index" INTEGER NOT NULL,
    "external_id" TEXT NOT NULL,
    "split" TEXT NOT NULL DEFAULT 'train',
    "question" TEXT NOT NULL,
    "golds" TEXT[],
    "extra" JSONB,

    CONSTRAINT "dataset_items_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "runs" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "experiment_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "config" JSONB NOT NULL,
    "curriculum_id" UUID,
    "status" "RunStatus" NOT NULL DEFAULT 'QUEUED',
    "step" INTEGER NOT NULL DEFAULT 0,
    "stage" INTEGER NOT NULL DEFAULT 0,
    "shots" INTEGER,
    "seed" INTEGER NOT NULL,
    "error" TEXT,
    "parent_run_id" UUID,
    "fork_step" INTEGER,
    "version" INTEGER NOT NULL DEFAULT 1,
    "rollout_seq" BIGINT NOT NULL DEFAULT 0,
    "metric_seq" BIGINT NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rollouts" (
    "id" BIGSERIAL NOT NULL,
    "run_id" UUID NOT NULL,
    "seq" BIGINT NOT NULL,
    "step" INTEGER NOT NULL,
    "stage" INTEGER NOT NULL,
    "shots" INTEGER NOT NULL,
    "group_index" INTEGER NOT NULL,
    "sample_index" INTEGER NOT NULL,
    "question_id" TEXT NOT NULL,
    "segments" JSONB NOT NULL,
    "reward" DOUBLE PRECISION NOT NULL,
    "reward_components" JSONB NOT NULL,
    "advantage" DOUBLE PRECISION,
    "prompt_tokens" INTEGER NOT NULL,
    "response_tokens" INTEGER NOT NULL,
    "turns" INTEGER NOT NULL,
    "tool_calls_valid" INTEGER NOT NULL,
    "tool_calls_invalid" INTEGER NOT NULL,
    "finish_reason" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "rollouts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "metric_points" (
    "id" BIGSERIAL NOT NULL,
    "run_id" UUID NOT NULL,
    "seq" BIGINT NOT NULL,
    "key" TEXT NOT NULL,
    "step" INTEGER NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,
    "time" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "metric_points_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "metric_rollups" (
    "run_id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "width" INTEGER NOT NULL,
    "bucket" INTEGER NOT NULL,
    "min" DOUBLE PRECISION NOT NULL,
    "max" DOUBLE PRECISION NOT NULL,
    "sum" DOUBLE PRECISION NOT NULL,
    "count" INTEGER NOT NULL,
    "first" DOUBLE PRECISION NOT NULL,
    "last" DOUBLE PRECISION NOT NULL,
    "first_step" INTEGER NOT NULL,
    "last_step" INTEGER NOT NULL,

    CONSTRAINT "metric_rollups_pkey" PRIMARY KEY ("run_id","key","width","bucket")
);

-- CreateTable
CREATE TABLE "benchmark_runs" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "dataset_id" UUID NOT NULL,
    "model" TEXT NOT NULL,
    "adapter_artifact_id" UUID,
    "config" JSONB NOT NULL,
    "status" "RunStatus" NOT NULL DEFAULT 'QUEUED',
    "total" INTEGER NOT NULL DEFAULT 0,
    "completed" INTEGER NOT NULL DEFAULT 0,
    "aggregate" JSONB,
    "error" TEXT,
    "item_seq" BIGINT NOT NULL DEFAULT 0,
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "benchmark_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "benchmark_items" (
    "id" BIGSERIAL NOT NULL,
    "benchmark_run_id" UUID NOT NULL,
    "seq" BIGINT NOT NULL,
    "item_index" INTEGER NOT NULL,
    "item_id" TEXT NOT NULL,
    "question" TEXT NOT NULL,
    "prediction" TEXT NOT NULL,
    "golds" TEXT[],
    "score" DOUBLE PRECISION NOT NULL,
    "metrics" JSONB NOT NULL,
    "trajectory" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "benchmark_items_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "workers" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "capabilities" JSONB NOT NULL,
    "status" "WorkerStatus" NOT NULL DEFAULT 'ONLINE',
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "workers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "jobs" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "seq" BIGSERIAL NOT NULL,
    "kind" "JobKind" NOT NULL,
    "status" "JobStatus" NOT NULL DEFAULT 'QUEUED',
    "run_id" UUID,
    "benchmark_run_id" UUID,
    "requirements" JSONB NOT NULL DEFAULT '{}',
    "lease_owner_id" UUID,
    "lease_expires_at" TIMESTAMPTZ(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "max_attempts" INTEGER NOT NULL DEFAULT 3,
    "cancel_requested" BOOLEAN NOT NULL DEFAULT false,
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "jobs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "artifacts" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "kind" "ArtifactKind" NOT NULL,
    "name" TEXT NOT NULL,
    "run_id" UUID,
    "step" INTEGER,
    "sha256" TEXT NOT NULL,
    "bytes" BIGINT NOT NULL,
    "storage_key" TEXT NOT NULL,
    "metadata" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "artifacts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_keys" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "role" "Role" NOT NULL,
    "prefix" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "worker_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "experiments_name_key" ON "experiments"("name");

-- CreateIndex
CREATE UNIQUE INDEX "demonstration_sets_name_key" ON "demonstration_sets"("name");

-- CreateIndex
CREATE UNIQUE INDEX "curricula_name_key" ON "curricula"("name");

-- CreateIndex
CREATE UNIQUE INDEX "datasets_name_key" ON "datasets"("name");

-- CreateIndex
CREATE INDEX "dataset_items_dataset_id_split_index_idx" ON "dataset_items"("dataset_id", "split", "index");

-- CreateIndex
CREATE UNIQUE INDEX "dataset_items_dataset_id_index_key" ON "dataset_items"("dataset_id", "index");

-- CreateIndex
CREATE INDEX "runs_experiment_id_created_at_idx" ON "runs"("experiment_id", "created_at");

-- CreateIndex
CREATE INDEX "runs_status_created_at_idx" ON "runs"("status", "created_at");

-- CreateIndex
CREATE INDEX "rollouts_run_id_step_idx" ON "rollouts"("run_id", "step");

-- CreateIndex
CREATE UNIQUE INDEX "rollouts_run_id_step_group_index_sample_index_key" ON "rollouts"("run_id", "step", "group_index", "sample_index");

-- CreateIndex
CREATE UNIQUE INDEX "rollouts_run_id_seq_key" ON "rollouts"("run_id", "seq");

-- CreateIndex
CREATE INDEX "metric_points_run_id_seq_idx" ON "metric_points"("run_id", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "metric_points_run_id_key_step_key" ON "metric_points"("run_id", "key", "step");

-- CreateIndex
CREATE INDEX "benchmark_items_benchmark_run_id_score_idx" ON "benchmark_items"("benchmark_run_id", "score");

-- CreateIndex
CREATE UNIQUE INDEX "benchmark_items_benchmark_run_id_item_index_key" ON "benchmark_items"("benchmark_run_id", "item_index");

-- CreateIndex
CREATE UNIQUE INDEX "benchmark_items_benchmark_run_id_seq_key" ON "benchmark_items"("benchmark_run_id", "seq");

-- CreateIndex
CREATE INDEX "jobs_status_seq_idx" ON "jobs"("status", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "jobs_seq_key" ON "jobs"("seq");

-- CreateIndex
CREATE INDEX "artifacts_run_id_kind_step_idx" ON "artifacts"("run_id", "kind", "step");

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_hash_key" ON "api_keys"("hash");

-- AddForeignKey
ALTER TABLE "curricula" ADD CONSTRAINT "curricula_demonstration_set_id_fkey" FOREIGN KEY ("demonstration_set_id") REFERENCES "demonstration_sets"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dataset_items" ADD CONSTRAINT "dataset_items_dataset_id_fkey" FOREIGN KEY ("dataset_id") REFERENCES "datasets"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "runs" ADD CONSTRAINT "runs_experiment_id_fkey" FOREIGN KEY ("experiment_id") REFERENCES "experiments"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "runs" ADD CONSTRAINT "runs_curriculum_id_fkey" FOREIGN KEY ("curriculum_id") REFERENCES "curricula"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "runs" ADD CONSTRAINT "runs_parent_run_id_fkey" FOREIGN KEY ("parent_run_id") REFERENCES "runs"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rollouts" ADD CONSTRAINT "rollouts_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "metric_points" ADD CONSTRAINT "metric_points_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "benchmark_runs" ADD CONSTRAINT "benchmark_runs_dataset_id_fkey" FOREIGN KEY ("dataset_id") REFERENCES "datasets"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "benchmark_runs" ADD CONSTRAINT "benchmark_runs_adapter_artifact_id_fkey" FOREIGN KEY ("adapter_artifact_id") REFERENCES "artifacts"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "benchmark_items" ADD CONSTRAINT "benchmark_items_benchmark_run_id_fkey" FOREIGN KEY ("benchmark_run_id") REFERENCES "benchmark_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_benchmark_run_id_fkey" FOREIGN KEY ("benchmark_run_id") REFERENCES "benchmark_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_lease_owner_id_fkey" FOREIGN KEY ("lease_owner_id") REFERENCES "workers"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "artifacts" ADD CONSTRAINT "artifacts_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_worker_id_fkey" FOREIGN KEY ("worker_id") REFERENCES "workers"("id") ON DELETE CASCADE ON UPDATE CASCADE;
