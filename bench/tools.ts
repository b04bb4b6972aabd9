// Tool latency as a rollout sees it: one sandboxed Python call (spawn, namespaces, limits, capture) and
// one BM25 search with formatting, on HotpotQA passages and questions (bench/support/hotpotqa.ts).
import { mkdtemp, rm, stat } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { LocalPythonTool, loadBm25Index, LocalSearchTool } from "../worker/tools/index.js";
import { HOTPOTQA_PASSAGES, hotpotPassageIds, hotpotQuestions } from "./support/hotpotqa.js";

const PYTHON_CALLS = 50;
const SEARCH_QUERIES = 200;
const SNIPPET = "import math\nprint(sum(math.sqrt(i) for i in range(10_000)))";

/** Nearest-rank percentile. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const round = (value: number) => Math.round(value * 100) / 100;

async function benchPython(): Promise<Record<string, number>> {
  const tool = new LocalPythonTool({ slots: 1 });
  for (let i = 0; i < 3; i++) await tool.call(SNIPPET); // page cache and JIT warm-up
  const latencies: number[] = [];
  for (let i = 0; i < PYTHON_CALLS; i++) {
    const started = performance.now();
    const result = await tool.call(SNIPPET);
    latencies.push(performance.now() - started);
    if (!result.ok) throw new Error(`python call failed: ${result.observation}`);
  }
  return { python_calls: PYTHON_CALLS, python_p50_ms: round(percentile(latencies, 50)), python_p99_ms: round(percentile(latencies, 99)) };
}

async function benchSearch(): Promise<Record<string, number | string>> {
  const corpus = HOTPOTQA_PASSAGES;
  const cacheDir = await mkdtemp(path.join(tmpdir(), "icrl-bench-search-"));
  try {
    const built = await loadBm25Index(corpus, { cacheDir });
    const loaded = await loadBm25Index(corpus, { cacheDir });
    const tool = new LocalSearchTool(loaded);
    const qrels = hotpotQuestions(SEARCH_QUERIES);
    // The ranking check counts only questions whose supporting passages are all in the searched file.
    const inCorpus = hotpotPassageIds();
    const latencies: number[] = [];
    let checked = 0;
    let withSupport = 0;
    for (const { question, supporting_passage_ids } of qrels) {
      const started = performance.now();
      await tool.call(question);
      latencies.push(performance.now() - started);
      if (!supporting_passage_ids.every((id) => inCorpus.has(id))) continue;
      checked += 1;
      const top = loaded.search(question, 3).map((hit) => hit.id);
      if (supporting_passage_ids.some((id) => top.includes(id))) withSupport += 1;
    }
    return {
      search_corpus: path.relative(process.cwd(), corpus),
      search_corpus_passages: built.size,
      search_corpus_bytes: (await stat(corpus)).size,
      search_index_build_ms: Math.round(built.loadMs),
      search_index_cache_load_ms: Math.round(loaded.loadMs),
      search_queries: qrels.length,
      search_p50_ms: round(percentile(latencies, 50)),
      search_p99_ms: round(percentile(latencies, 99)),
      search_support_checked_queries: checked,
      search_top3_has_supporting_passage: round(withSupport / checked),
    };
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
}

export default async function bench(): Promise<Record<string, number | string>> {
  // Other work on the machine shows up in every latency here; the load average says how much there was.
  const loadBefore = round(loadavg()[0]);
  return { ...(await benchPython()), ...(await benchSearch()), load_avg_1m_at_start: loadBefore };
}
