// A study's runs in the order people read a table (arms as given, then seeds), and the study's
// status and progress derived from them: stored once, on the runs.
import type { PrismaClient } from "../generated/prisma/client.js";
import type { Run, Study } from "../generated/prisma/client.js";

export interface StoredArm {
  name: string;
  patch: Record<string, unknown>;
}

export const storedArms = (study: Pick<Study, "arms">): StoredArm[] => study.arms as unknown as StoredArm[];

export async function loadStudyRuns(prisma: PrismaClient, study: Pick<Study, "id" | "arms">): Promise<Run[]> {
  const order = new Map(storedArms(study).map((a, i) => [a.name, i]));
  const runs = await prisma.run.findMany({ where: { studyId: study.id } });
  return runs.sort((a, b) => (order.get(a.arm ?? "") ?? 0) - (order.get(b.arm ?? "") ?? 0) || a.seed - b.seed);
}

export interface StudyProgress {
  total: number;
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
  cancelled: number;
}

export function studyProgress(runs: Pick<Run, "status">[]): StudyProgress {
  const count = (s: Run["status"]) => runs.filter((r) => r.status === s).length;
  return {
    total: runs.length,
    queued: count("QUEUED"),
    running: count("RUNNING"),
    succeeded: count("SUCCEEDED"),
    failed: count("FAILED"),
    cancelled: count("CANCELLED"),
  };
}

export type StudyStatus = "QUEUED" | "RUNNING" | "SUCCEEDED" | "FAILED" | "CANCELLED";

/**
 * FAILED only when a run failed: a study whose runs a user cancelled one by one (to save time, say) and
 * whose other runs succeeded is CANCELLED, so that FAILED always means there is an error to look at.
 */
export function studyStatus(runs: Pick<Run, "status">[], cancelledAt: Date | null): StudyStatus {
  if (cancelledAt) return "CANCELLED";
  const p = studyProgress(runs);
  if (p.queued === p.total) return "QUEUED";
  if (p.queued + p.running > 0) return "RUNNING";
  if (p.failed > 0) return "FAILED";
  return p.cancelled > 0 ? "CANCELLED" : "SUCCEEDED";
}

export const isFinished = (status: Run["status"]) => status === "SUCCEEDED" || status === "FAILED" || status === "CANCELLED";
