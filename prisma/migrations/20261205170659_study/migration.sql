-- AlterTable
ALTER TABLE "runs" ADD COLUMN     "arm" TEXT,
ADD COLUMN     "study_id" UUID;

-- CreateTable
CREATE TABLE "studies" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "experiment_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "base_config" JSONB NOT NULL,
    "arms" JSONB NOT NULL,
    "seeds" INTEGER[],
    "baseline_arm" TEXT NOT NULL,
    "curriculum_id" UUID,
    "cancelled_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "studies_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "studies_created_at_idx" ON "studies"("created_at");

-- CreateIndex
CREATE UNIQUE INDEX "studies_experiment_id_name_key" ON "studies"("experiment_id", "name");

-- CreateIndex
CREATE INDEX "runs_study_id_idx" ON "runs"("study_id");

-- AddForeignKey
ALTER TABLE "studies" ADD CONSTRAINT "studies_experiment_id_fkey" FOREIGN KEY ("experiment_id") REFERENCES "experiments"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "runs" ADD CONSTRAINT "runs_study_id_fkey" FOREIGN KEY ("study_id") REFERENCES "studies"("id") ON DELETE SET NULL ON UPDATE CASCADE;
