// createStudy: every arm's merged config is validated (and what it points at checked) before anything
// is written; then the study, its runs and their TRAIN jobs are inserted in one transaction, so a
// study never exists with only some of its runs.
import { planStudy, studyRunName, type StudyArmInput } from "../../contracts/index.js";
import { inTransaction } from "../db/transaction.js";
import { badInput, isUniqueViolation, apiError, notFound, type FieldError } from "../errors.js";
import type { PrismaClient } from "../generated/prisma/client.js";
import { insertRunWithJob } from "../jobs/create-run.js";
import { checkRunReferences } from "../jobs/run-references.js";
import type pg from "pg";

export interface CreateStudyRequest {
  experimentId: string;
  name: string;
  description?: string | null;
  baseConfig: unknown;
  arms: { name: string; patch?: unknown }[];
  seeds: number[];
  baselineArm?: string | null;
  curriculumId?: string | null;
}

const describe = (errors: FieldError[]) => errors.map((e) => `${e.path}: ${e.message}`).join("; ");

export async function createStudy(prisma: PrismaClient, pool: pg.Pool, req: CreateStudyRequest): Promise<string> {
  const experiment = await prisma.experiment.findUnique({ where: { id: req.experimentId } });
  if (!experiment) throw notFound("Experiment", req.experimentId);
  if (experiment.archived) throw badInput(`Experiment ${experiment.name} is archived; unarchive it to add a study.`);
  const name = req.name.trim();
  if (!name) throw badInput("Study name must not be empty.", [{ path: "name", message: "must not be empty" }]);
  if (!req.baseConfig || typeof req.baseConfig !== "object" || Array.isArray(req.baseConfig)) {
    throw badInput("baseConfig must be a run config object.", [{ path: "baseConfig", message: "expected an object" }]);
  }
  if (req.curriculumId && !(await prisma.curriculum.findUnique({ where: { id: req.curriculumId } }))) {
    throw badInput(`Curriculum ${req.curriculumId} does not exist.`, [{ path: "curriculumId", message: "does not exist" }]);
  }
  const arms: StudyArmInput[] = req.arms.map((a) => ({ name: a.name, patch: (a.patch ?? {}) as Record<string, unknown> }));
  const plan = planStudy({ baseConfig: req.baseConfig as Record<string, unknown>, arms, seeds: req.seeds, baselineArm: req.baselineArm });
  if (!plan.ok) throw badInput(`Invalid study: ${describe(plan.errors)}`, plan.errors);

  // Arms share most references; check each distinct config once, reporting under every arm that has it.
  const refErrors: FieldError[] = [];
  for (const arm of arms) {
    const run = plan.runs.find((r) => r.arm === arm.name);
    if (run)
      refErrors.push(
        ...(await checkRunReferences(prisma, run.config, req.curriculumId)).map((e) => ({ path: `arms.${arm.name}.${e.path}`, message: e.message })),
      );
  }
  if (refErrors.length) throw badInput(`Invalid study: ${describe(refErrors)}`, refErrors);

  try {
    return await inTransaction(pool, async (c) => {
      const res = await c.query(
        `INSERT INTO studies (experiment_id, name, description, base_config, arms, seeds, baseline_arm, curriculum_id)
         VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6::int[], $7, $8) RETURNING id`,
        [
          req.experimentId,
          name,
          req.description ?? "",
          JSON.stringify(req.baseConfig),
          JSON.stringify(arms),
          req.seeds,
          plan.baselineArm,
          req.curriculumId ?? null,
        ],
      );
      const studyId = res.rows[0].id as string;
      for (const run of plan.runs) {
        await insertRunWithJob(c, {
          experimentId: req.experimentId,
          name: studyRunName(name, run.arm, run.seed),
          config: run.config,
          curriculumId: req.curriculumId ?? null,
          studyId,
          arm: run.arm,
        });
      }
      return studyId;
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw apiError("CONFLICT", `Experiment ${experiment.name} already has a study named "${name}"; pick another name.`);
    throw err;
  }
}
