// What a run config points at (its dataset, its demonstration set) must exist before a run is
// queued; otherwise the run would fail on a worker minutes later with a less helpful message.
import type { RunConfig } from "../../contracts/index.js";
import type { PrismaClient } from "../generated/prisma/client.js";
import type { FieldError } from "../errors.js";

export async function checkRunReferences(prisma: PrismaClient, config: RunConfig): Promise<FieldError[]> {
  const errors: FieldError[] = [];
  const dataset = await prisma.dataset.findUnique({ where: { id: config.dataset.id } });
  if (!dataset) errors.push({ path: "dataset.id", message: `dataset ${config.dataset.id} does not exist; import one first` });
  else if (dataset.archived) errors.push({ path: "dataset.id", message: "dataset is archived" });
  const setId = config.demonstrations.setId;
  if (setId && !(await prisma.demonstrationSet.findUnique({ where: { id: setId } }))) {
    errors.push({ path: "demonstrations.setId", message: `demonstration set ${setId} does not exist` });
  }
  return errors;
}
