// The `context` a worker receives with a claimed job: everything it needs to run the job, so a
// worker token never has to read other entities. Typed by the contracts the worker validates with,
// so the compiler checks that what the server sends is what the worker accepts.
import type pg from "pg";
import type { BenchmarkConfig, ClaimedDemonstrationSet, EvalClaimContextInput, RunConfig, TrainClaimContextInput } from "../../contracts/index.js";
import type { PrismaClient } from "../generated/prisma/client.js";
import type { JobRow } from "./job-row.js";

interface Db {
  prisma: PrismaClient;
  pool: pg.Pool;
}

/** Curricula are validated with the run config's curriculum schema before they are stored. */
type StoredCurriculum = NonNullable<RunConfig["curriculum"]>;

const artifactRef = (a: { id: string; step: number | null; sha256: string; bytes: bigint; name: string }) => ({
  id: a.id,
  step: a.step,
  sha256: a.sha256,
  bytes: String(a.bytes),
  name: a.name,
  downloadPath: `/artifacts/${a.id}`,
});

const claimedDataset = (d: { id: string; name: string; kind: "QA" | "MATH"; itemCount: number; splits: string[] }) => ({
  id: d.id,
  name: d.name,
  kind: d.kind,
  itemCount: d.itemCount,
  splits: d.splits,
});

async function claimedDemonstrationSet(db: Db, id: string | null | undefined): Promise<ClaimedDemonstrationSet | null> {
  const set = id ? await db.prisma.demonstrationSet.findUnique({ where: { id } }) : null;
  // Items are checked (non-empty question and trajectory) when a set is created or updated.
  return set ? { id: set.id, name: set.name, task: set.task, items: set.items as ClaimedDemonstrationSet["items"] } : null;
}

/** Checkpoints offered besides the newest, for a fallback (each is a full learner state: a few suffice). */
const EARLIER_CHECKPOINTS = 3;

export async function buildClaimContext(db: Db, job: JobRow): Promise<TrainClaimContextInput | EvalClaimContextInput> {
  return job.run_id ? trainClaimContext(db, job.run_id) : evalClaimContext(db, job.benchmark_run_id!);
}

export async function trainClaimContext(db: Db, runId: string): Promise<TrainClaimContextInput> {
  const { prisma } = db;
  const run = await prisma.run.findUniqueOrThrow({ where: { id: runId } });
  // Stored as parsed by runConfigSchema when the run was created or forked.
  const config = run.config as RunConfig;
  const curriculum = run.curriculumId ? await prisma.curriculum.findUnique({ where: { id: run.curriculumId } }) : null;
  const demonstrationSet = await claimedDemonstrationSet(db, config.demonstrations?.setId ?? curriculum?.demonstrationSetId ?? null);
  const dataset = await prisma.dataset.findUnique({ where: { id: config.dataset.id } });
  // Resume from this run's own latest checkpoint; a fresh fork starts from its parent's.
  // The newest few: the worker falls back to an earlier one when the newest cannot be read.
  const latest = { orderBy: { step: "desc" as const }, take: 1 + EARLIER_CHECKPOINTS };
  const own = await prisma.artifact.findMany({ where: { runId: run.id, kind: "CHECKPOINT" }, ...latest });
  const fromParent =
    own.length === 0 && run.parentRunId
      ? await prisma.artifact.findMany({
          where: { runId: run.parentRunId, kind: "CHECKPOINT", ...(run.forkStep != null ? { step: { lte: run.forkStep } } : {}) },
          ...latest,
        })
      : [];
  // The run each query above asked for (the artifact's own runId column is nullable).
  const fromRunId = own.length ? run.id : run.parentRunId!;
  const [checkpoint = null, ...earlierCheckpoints] = (own.length ? own : fromParent).map((a) => ({ ...artifactRef(a), fromRunId }));
  return {
    kind: "TRAIN",
    run: {
      id: run.id,
      name: run.name,
      config,
      seed: run.seed,
      step: run.step,
      stage: run.stage,
      parentRunId: run.parentRunId,
      forkStep: run.forkStep,
    },
    curriculum: curriculum
      ? {
          id: curriculum.id,
          name: curriculum.name,
          stages: curriculum.stages as StoredCurriculum["stages"],
          advanceRules: curriculum.advanceRules as StoredCurriculum["advanceRules"] | null,
        }
      : (config.curriculum ?? null),
    demonstrationSet,
    dataset: dataset ? claimedDataset(dataset) : null,
    checkpoint,
    earlierCheckpoints,
  };
}

export async function evalClaimContext(db: Db, benchmarkRunId: string): Promise<EvalClaimContextInput> {
  const { prisma, pool } = db;
  const bench = await prisma.benchmarkRun.findUniqueOrThrow({ where: { id: benchmarkRunId } });
  const dataset = await prisma.dataset.findUniqueOrThrow({ where: { id: bench.datasetId } });
  const adapter = bench.adapterArtifactId ? await prisma.artifact.findUnique({ where: { id: bench.adapterArtifactId } }) : null;
  // Stored as parsed by benchmarkConfigSchema when the benchmark run was started.
  const config = bench.config as BenchmarkConfig;
  const demonstrationSet = await claimedDemonstrationSet(db, config.demonstrationSetId);
  // Scores of stored items too: a resumed job's aggregate must cover the whole run, and a worker
  // token cannot read benchmark items otherwise.
  // Metrics are stored as each item was reported: one object per item (or {} when left out).
  const done = await pool.query<{ item_index: number; score: number; metrics: Record<string, unknown> }>(
    "SELECT item_index, score, metrics FROM benchmark_items WHERE benchmark_run_id = $1 ORDER BY item_index",
    [bench.id],
  );
  return {
    kind: "EVAL",
    benchmarkRun: { id: bench.id, name: bench.name, model: bench.model, config, total: bench.total },
    dataset: claimedDataset(dataset),
    adapter: adapter ? artifactRef(adapter) : null,
    demonstrationSet,
    completedItemIndexes: done.rows.map((r) => r.item_index),
    completedItems: done.rows.map((r) => ({ itemIndex: r.item_index, score: r.score, metrics: r.metrics })),
  };
}
