// Shared setup for the worker tests: a tiny real GGUF model, a small QA dataset imported into a real
// server, a worker registration key, budgets that keep a benchmark item to a few dozen tokens, and
// a worker whose pino log lines the test can read.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Writable } from "node:stream";
import { pino } from "pino";
import {
  BenchmarkRunDocument,
  CreateApiKeyDocument,
  type BenchmarkRunQuery,
  ImportDatasetDocument,
  StartBenchmarkRunDocument,
  type BenchmarkItemFieldsFragment,
  type IcrlClient,
} from "../../client-sdk/src/index.js";
import { writeTinyModel } from "../../worker/engine/tiny-model.js";
import type { TestServer } from "../support/server.js";

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const NQ_QUICKSTART = path.resolve(PROJECT_ROOT, "test", "fixtures", "data", "nq_open", "flashrag_quickstart_nq_test.jsonl");
export const WIKI_CORPUS = path.resolve(PROJECT_ROOT, "test", "fixtures", "data", "wiki_passages", "searchr1_wiki18_example_corpus.jsonl");

/** A 2-layer, 64-wide llama: loads in milliseconds, decodes thousands of tokens a second on one thread. */
export function writeSmallModel(dir: string, seed = 7): string {
  const out = path.join(dir, "tiny.gguf");
  writeTinyModel({ out, layers: 2, dim: 64, heads: 4, kvHeads: 2, ff: 128, context: 2048, seed });
  return out;
}

/** Benchmark settings that keep each item short: one tools-on turn of at most 32 tokens. */
export const FAST_EVAL = { maxTurnTokens: 32, maxToolTurns: 1, maxTotalTokens: 96, contextSize: 2048 };

export async function importQa(t: TestServer, dir: string, name: string, count: number): Promise<string> {
  const file = path.join(dir, `${name}.jsonl`);
  const lines = Array.from({ length: count }, (_, i) =>
    JSON.stringify({ id: `${name}-${i}`, question: `What is the name of thing number ${i}?`, golden_answers: [`thing ${i}`] }),
  );
  fs.writeFileSync(file, lines.join("\n") + "\n");
  const res = await t.admin.mutate(ImportDatasetDocument, { input: { name, kind: "QA", format: "JSONL", path: file } });
  return res.importDataset.id;
}

export async function workerKey(t: TestServer): Promise<string> {
  return (await t.admin.mutate(CreateApiKeyDocument, { name: "workers", role: "WORKER" })).createApiKey.secret;
}

export async function startBenchmark(
  client: IcrlClient,
  input: { name: string; datasetId: string; model: string; adapterArtifactId?: string; config?: Record<string, unknown> },
) {
  return (await client.mutate(StartBenchmarkRunDocument, { input: { ...input, config: { ...FAST_EVAL, ...input.config } } })).startBenchmarkRun;
}

export async function allItems(client: IcrlClient, id: string): Promise<BenchmarkItemFieldsFragment[]> {
  const out: BenchmarkItemFieldsFragment[] = [];
  let after: string | null = null;
  for (;;) {
    const res: BenchmarkRunQuery = await client.query(BenchmarkRunDocument, { id, first: 100, after });
    const conn = res.benchmarkRun!.items;
    out.push(...conn.nodes);
    if (!conn.pageInfo.hasNextPage) return out;
    after = conn.pageInfo.endCursor;
  }
}

export async function waitFor<T>(probe: () => Promise<T | null | undefined | false>, timeoutMs = 60_000, intervalMs = 50): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface CapturedLog {
  logger: pino.Logger;
  lines: Record<string, unknown>[];
  /** Resolves with the first line whose msg matches. */
  next(msg: string | RegExp): Promise<Record<string, unknown>>;
}

/** A pino logger whose lines land in memory, so a test can react to what the worker does. */
export function captureLog(level = "debug"): CapturedLog {
  const lines: Record<string, unknown>[] = [];
  const waiters: { match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const text of String(chunk).split("\n").filter(Boolean)) {
        const line = JSON.parse(text) as Record<string, unknown>;
        lines.push(line);
        for (const w of waiters.splice(0)) w.match(line) ? w.resolve(line) : waiters.push(w);
      }
      done();
    },
  });
  const matcher = (msg: string | RegExp) => (l: Record<string, unknown>) => (typeof msg === "string" ? l.msg === msg : msg.test(String(l.msg)));
  return {
    logger: pino({ level }, sink),
    lines,
    next: (msg) => {
      const found = lines.find(matcher(msg));
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ match: matcher(msg), resolve }));
    },
  };
}
