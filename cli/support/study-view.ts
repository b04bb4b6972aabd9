// What `icrl study show|watch|export|plot` share: finding the study, choosing the metric and the
// point a summary takes, and fetching the summary the server computes.
import {
  type IcrlClient,
  StudiesDocument,
  StudyDocument,
  type StudyQuery,
  StudySummaryDocument,
  type StudySummaryFieldsFragment,
} from "../../client-sdk/src/index.js";
import { badInput, notFound } from "./exit-codes.js";
import { pages } from "./paginate.js";
import { isId } from "./resolve.js";

export type StudyDetail = NonNullable<StudyQuery["study"]>;

/** A study by id, or by name when exactly one study has it. */
export async function requireStudy(client: IcrlClient, idOrName: string): Promise<StudyDetail> {
  let id = idOrName;
  if (!isId(idOrName)) {
    const matches: string[] = [];
    for await (const batch of pages((after) => client.query(StudiesDocument, { first: 100, after }).then((r) => r.studies))) {
      for (const s of batch) if (s.name === idOrName) matches.push(`${s.id} (experiment ${s.experiment.name})`);
    }
    if (!matches.length) throw notFound(`No study named ${JSON.stringify(idOrName)} (see \`icrl study list\`).`);
    if (matches.length > 1) throw badInput(`${matches.length} studies are named ${JSON.stringify(idOrName)}; give the id.`, matches);
    id = matches[0].split(" ")[0];
  }
  const study = (await client.query(StudyDocument, { id })).study;
  if (!study) throw notFound(`No study with id ${id} (see \`icrl study list\`).`);
  return study;
}

/** The metric a researcher most likely means: the held-out accuracy, else the training reward. */
export const DEFAULT_METRICS = ["val/accuracy", "reward/mean"];

export function chooseMetric(study: Pick<StudyDetail, "metricKeys">, wanted?: string): string {
  if (wanted) return wanted;
  return DEFAULT_METRICS.find((k) => study.metricKeys.includes(k)) ?? study.metricKeys[0] ?? DEFAULT_METRICS[0];
}

export interface SummaryPoint {
  at: "FINAL" | "BEST" | "STEP";
  step?: number;
}

/** --at final|best|STEP. */
export function parsePoint(text: string | undefined): SummaryPoint {
  const t = (text ?? "final").trim().toLowerCase();
  if (t === "final") return { at: "FINAL" };
  if (t === "best") return { at: "BEST" };
  if (/^\d+$/.test(t)) return { at: "STEP", step: Number(t) };
  throw badInput(`--at must be final, best or a step number, got ${JSON.stringify(text)}.`);
}

export interface SummaryRequest {
  metric: string;
  point: SummaryPoint;
  higherIsBetter: boolean;
  baseline?: string;
}

export async function fetchSummary(client: IcrlClient, studyId: string, req: SummaryRequest): Promise<StudySummaryFieldsFragment> {
  const r = await client.query(StudySummaryDocument, {
    id: studyId,
    metric: req.metric,
    at: req.point.at,
    step: req.point.step,
    higherIsBetter: req.higherIsBetter,
    baseline: req.baseline,
  });
  if (!r.study) throw notFound(`No study with id ${studyId}.`);
  return r.study.summary;
}

export const TERMINAL_STUDY_STATUSES = ["SUCCEEDED", "FAILED", "CANCELLED"];

export function progressLine(p: StudyDetail["progress"]): string {
  const done = p.succeeded + p.failed + p.cancelled;
  const parts = [`${p.succeeded} succeeded`, `${p.running} running`, `${p.queued} queued`];
  if (p.failed) parts.push(`${p.failed} failed`);
  if (p.cancelled) parts.push(`${p.cancelled} cancelled`);
  return `${done}/${p.total} runs finished (${parts.join(", ")})`;
}
