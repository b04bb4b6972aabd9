// `icrl rollouts export`: a run's rollouts streamed page by page into JSONL, in our own record
// format or as verl rollout-dump lines. Only one page (and, for verl, the run's question table) is
// in memory at a time; writes wait for the destination to drain.
import type { Writable } from "node:stream";
import { type IcrlClient, DatasetDocument, RolloutsDocument, type RolloutFieldsFragment } from "../../client-sdk/src/index.js";
import { pages } from "./paginate.js";
import { ProgressBar } from "./progress-bar.js";
import type { RunDetail } from "./resolve.js";

export type ExportFormat = "jsonl" | "verl";

const PAGE = 250;

interface Question {
  question: string;
  golds: string[];
}

/** The run's dataset items by id, so verl lines can carry the question text and gold answers. */
async function questionTable(client: IcrlClient, datasetId: string | undefined): Promise<Map<string, Question>> {
  const table = new Map<string, Question>();
  if (!datasetId) return table;
  const items = pages(async (after) => {
    const res = await client.query(DatasetDocument, { id: datasetId, first: 1000, after });
    return res.dataset?.items ?? { nodes: [], pageInfo: { hasNextPage: false } };
  });
  for await (const batch of items) for (const it of batch) table.set(it.externalId, { question: it.question, golds: it.golds });
  return table;
}

const CORE = new Set(["input", "output", "gts", "score", "step"]);

/**
 * verl's dump line: input (the question text; the rendered prompt with demonstrations is not stored
 * per rollout, and the question id when the dataset does not know it), output (all segments in order,
 * tool results included, as the model saw them), gts (gold answers), score (the reward), step; the
 * reward components and rollout coordinates follow as extras.
 */
export function toVerlLine(r: RolloutFieldsFragment, questions: Map<string, Question>): Record<string, unknown> {
  const q = questions.get(r.questionId);
  const components = Object.fromEntries(Object.entries((r.rewardComponents ?? {}) as Record<string, unknown>).filter(([k]) => !CORE.has(k)));
  return {
    input: q?.question ?? r.questionId,
    output: r.segments.map((s) => s.text).join(""),
    gts: q?.golds ?? [],
    score: r.reward,
    step: r.step,
    ...components,
    question_id: r.questionId,
    stage: r.stage,
    shots: r.shots,
    group_index: r.groupIndex,
    sample_index: r.sampleIndex,
    advantage: r.advantage,
    finish_reason: r.finishReason,
    turns: r.turns,
    tool_calls_valid: r.toolCallsValid,
    tool_calls_invalid: r.toolCallsInvalid,
    prompt_tokens: r.promptTokens,
    response_tokens: r.responseTokens,
  };
}

async function writeLine(out: Writable, line: string): Promise<void> {
  if (!out.write(line))
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      out.once("error", onError);
      out.once("drain", () => {
        out.off("error", onError);
        resolve();
      });
    });
}

/** Exports the rollouts of `run` (from requireRun, so an unknown id fails before any output is opened). */
export async function exportRollouts(
  client: IcrlClient,
  run: RunDetail,
  options: { format: ExportFormat; out: Writable; progress: boolean; questions?: boolean },
): Promise<number> {
  const runId = run.id;
  const questions =
    options.format === "verl" && options.questions !== false
      ? await questionTable(client, (run.config as { dataset?: { id?: string } })?.dataset?.id)
      : new Map<string, Question>();
  let written = 0;
  let bar: ProgressBar | null = null;
  const source = pages(async (after) => {
    const res = (await client.query(RolloutsDocument, { runId, first: PAGE, after })).rollouts;
    if (options.progress && !bar && res.totalCount > 0) bar = new ProgressBar("rollouts", res.totalCount, process.stderr, String);
    return res;
  });
  for await (const batch of source) {
    const text = batch.map((r) => JSON.stringify(options.format === "verl" ? toVerlLine(r, questions) : r) + "\n").join("");
    await writeLine(options.out, text);
    written += batch.length;
    (bar as ProgressBar | null)?.update(written);
  }
  (bar as ProgressBar | null)?.finish(written);
  return written;
}
