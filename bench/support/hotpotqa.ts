// The HotpotQA data the tools, rollout and gpu-step benchmarks search. The questions (500, with their
// supporting passages) are in bench/data. The passages default to the repository's test copy, the first
// 1,200 of the 4,858 context paragraphs; ICRL_BENCH_PASSAGES names the full file (same format, e.g. a
// shared data directory's hotpotqa/passages.jsonl), which the figures in BENCHMARKS.md were measured on.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export const HOTPOTQA_QRELS = path.join(projectRoot, "bench", "data", "hotpotqa", "dev_subsampled_qrels.jsonl");

export const HOTPOTQA_PASSAGES = process.env.ICRL_BENCH_PASSAGES
  ? path.resolve(process.env.ICRL_BENCH_PASSAGES)
  : path.join(projectRoot, "test", "fixtures", "data", "hotpotqa", "passages.jsonl");

export interface HotpotQuestion {
  question_id: string;
  question: string;
  golden_answers: string[];
  supporting_passage_ids: string[];
}

/** The first `n` questions, in file order. */
export function hotpotQuestions(n = Number.POSITIVE_INFINITY): HotpotQuestion[] {
  return readFileSync(HOTPOTQA_QRELS, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .slice(0, n)
    .map((line) => JSON.parse(line) as HotpotQuestion);
}

/** Ids of the passages in the searched file. */
export function hotpotPassageIds(): Set<string> {
  return new Set(
    readFileSync(HOTPOTQA_PASSAGES, "utf8")
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => (JSON.parse(line) as { id: string }).id),
  );
}
