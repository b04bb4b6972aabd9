// Dataset readers for the formats users already have (ARCHITECTURE.md, "The method"): plain JSONL
// ({id, question, golden_answers[]} or {id, problem, answer}) and verl parquet rows. Each yields
// normalised items, and errors name the line or row so a person can fix the file.
import { createReadStream } from "node:fs";
import readline from "node:readline";
import { extractGsm8kAnswer } from "../../contracts/index.js";

export interface DatasetItemInput {
  externalId: string;
  split: string;
  question: string;
  golds: string[];
  extra?: Record<string, unknown>;
}

export class DatasetFormatError extends Error {}

function asGolds(v: unknown): string[] | null {
  if (typeof v === "string" || typeof v === "number") return [String(v)];
  if (Array.isArray(v) && v.length && v.every((g) => typeof g === "string" || typeof g === "number")) return v.map(String);
  if (v && typeof v === "object" && "target" in v) return asGolds((v as { target: unknown }).target);
  return null;
}

/**
 * Raw GSM8K gives the whole worked solution as "answer", ending in "#### 72". Stored as the gold it
 * would make every answer wrong, so the gold is the final number (as the gsm8k scorer reads it) and
 * the solution is kept in extra. A solution whose "####" has no number after it is refused.
 */
function gsm8kSolution(row: Record<string, unknown>, where: string): { final: string; text: string } | null {
  if (row.golden_answers !== undefined || typeof row.answer !== "string" || !row.answer.includes("####")) return null;
  const final = extractGsm8kAnswer(row.answer);
  if (final === null) {
    throw new DatasetFormatError(
      `${where}: "answer" looks like a GSM8K solution ("####") but no number follows "#### "; put the final answer after "#### " or in "golden_answers".`,
    );
  }
  return { final, text: row.answer };
}

/** One JSONL record -> item; `where` names the line for errors. */
export function itemFromRecord(row: Record<string, unknown>, index: number, defaultSplit: string, where: string): DatasetItemInput {
  const question = row.question ?? row.problem;
  if (typeof question !== "string" || !question.trim()) {
    throw new DatasetFormatError(`${where}: expected a "question" (QA) or "problem" (math) string field.`);
  }
  const solution = gsm8kSolution(row, where);
  const golds = solution ? [solution.final] : asGolds(row.golden_answers ?? row.answer ?? row.answers);
  if (!golds) throw new DatasetFormatError(`${where}: expected "golden_answers" (list of strings) or "answer" (string or list).`);
  const id = row.id ?? row.idx ?? index;
  const { question: _q, problem: _p, golden_answers: _g, answer: _a, answers: _as, id: _i, idx: _x, split, ...rest } = row;
  const extra = solution ? { ...rest, solution: solution.text } : rest;
  return {
    externalId: String(id),
    split: typeof split === "string" && split ? split : defaultSplit,
    question,
    golds,
    ...(Object.keys(extra).length ? { extra } : {}),
  };
}

export async function* readJsonl(path: string, defaultSplit: string): AsyncGenerator<DatasetItemInput> {
  const lines = readline.createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
  let n = 0;
  let index = 0;
  for await (const line of lines) {
    n++;
    if (!line.trim()) continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (err) {
      throw new DatasetFormatError(`line ${n}: not valid JSON (${(err as Error).message}).`);
    }
    if (!row || typeof row !== "object" || Array.isArray(row)) throw new DatasetFormatError(`line ${n}: expected a JSON object.`);
    yield itemFromRecord(row as Record<string, unknown>, index++, defaultSplit, `line ${n}`);
  }
}

/**
 * verl rows. The question is the bare question when the row carries one (extra_info.question, or
 * Search-R1's top-level question), else the last user message of the prompt; which one was used is
 * kept in the item's extra.question_field, since a prompt holds instructions that ICRL Lab's own
 * prompt would then repeat. Pages compressed with SNAPPY, GZIP, ZSTD, BROTLI or LZ4 are read (the
 * codecs of pyarrow, pandas and polars, whose default is ZSTD or SNAPPY).
 */
export async function* readVerlParquet(path: string, defaultSplit: string): AsyncGenerator<DatasetItemInput> {
  const [{ parquetReadObjects, asyncBufferFromFile }, { compressors }] = await Promise.all([import("hyparquet"), import("hyparquet-compressors")]);
  let rows: Record<string, unknown>[];
  try {
    const file = await asyncBufferFromFile(path);
    rows = (await parquetReadObjects({ file, compressors })) as Record<string, unknown>[];
  } catch (err) {
    throw new DatasetFormatError(`not a readable parquet file (${(err as Error).message}).`);
  }
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    const where = `row ${i}`;
    const extra = (row.extra_info ?? {}) as Record<string, unknown>;
    const prompt = row.prompt as { role: string; content: string }[] | undefined;
    const fromPrompt = Array.isArray(prompt) ? [...prompt].reverse().find((m) => m?.role === "user")?.content : undefined;
    const [questionField, question] =
      typeof extra.question === "string"
        ? ["extra_info.question", extra.question]
        : typeof row.question === "string"
          ? ["question", row.question]
          : ["prompt", fromPrompt];
    const reward = row.reward_model as { ground_truth?: unknown } | undefined;
    if (typeof question !== "string") {
      throw new DatasetFormatError(`${where}: no question (extra_info.question, a question column, or a user message in prompt).`);
    }
    const golds = asGolds(reward?.ground_truth ?? row.golden_answers);
    if (!golds) throw new DatasetFormatError(`${where}: reward_model.ground_truth must be a string, a list, or {target: [...]}.`);
    yield {
      externalId: String(extra.index ?? i),
      split: typeof extra.split === "string" ? extra.split : defaultSplit,
      question,
      golds,
      extra: { data_source: row.data_source, ability: row.ability, question_field: questionField },
    };
  }
}
