// What a run config points at (its dataset, its demonstration set) must exist before a run is
// queued; otherwise the run would fail on a worker minutes later with a less helpful message.
import { runLengthProblems, type RunConfig } from "../../contracts/index.js";
import type { PrismaClient } from "../generated/prisma/client.js";
import type { FieldError } from "../errors.js";

/** Problems with what the config (and the stored curriculum it runs under, if any) refers to. */
export async function checkRunReferences(prisma: PrismaClient, config: RunConfig, curriculumId?: string | null): Promise<FieldError[]> {
  const errors: FieldError[] = [];
  if (curriculumId) {
    // A stored curriculum replaces the config's, so its stages decide the run's length.
    const curriculum = await prisma.curriculum.findUnique({ where: { id: curriculumId } });
    if (!curriculum) errors.push({ path: "curriculumId", message: `curriculum ${curriculumId} does not exist` });
    else {
      const stages = curriculum.stages as { shots: number; steps?: number; maxSteps?: number }[];
      const length = runLengthProblems(
        { stages, advanceRules: curriculum.advanceRules as unknown[] | null, maxSteps: config.maxSteps },
        "curriculumId.stages",
      );
      errors.push(
        ...length.map((p) => ({
          path: p.path.startsWith("curriculumId") ? "curriculumId" : p.path,
          message: `${p.message} (curriculum ${curriculum.name})`,
        })),
      );
    }
  }
  const dataset = await prisma.dataset.findUnique({ where: { id: config.dataset.id } });
  if (!dataset) errors.push({ path: "dataset.id", message: `dataset ${config.dataset.id} does not exist; import one first` });
  else if (dataset.archived) errors.push({ path: "dataset.id", message: "dataset is archived" });
  const setId = config.demonstrations.setId;
  if (setId && !(await prisma.demonstrationSet.findUnique({ where: { id: setId } }))) {
    errors.push({ path: "demonstrations.setId", message: `demonstration set ${setId} does not exist` });
  }
  return errors;
}
