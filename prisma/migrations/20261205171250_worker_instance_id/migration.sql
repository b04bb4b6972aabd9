-- AlterTable
ALTER TABLE "workers" ADD COLUMN     "instance_id" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "workers_instance_id_key" ON "workers"("instance_id");
