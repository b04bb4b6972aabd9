// A BM25 index over a passage corpus, built with MiniSearch and cached on disk. The cache key covers the
// corpus (absolute path, size, mtime) and every setting that shapes the index, so a changed corpus or
// analyzer rebuilds and an unchanged one loads in a fraction of the build time.
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import MiniSearch, { type Options } from "minisearch";
import { ANALYZER_ID, analyzeTerm } from "./analyzer.js";
import { readPassages, type Passage } from "./passages.js";

export const DEFAULT_SEARCH_CACHE_DIR = path.join(".icrl", "cache", "search");

// Pyserini's BM25 defaults (k1 0.9, b 0.4), the sparse retriever Search-R1 compares against. d = 0 turns
// MiniSearch's BM25+ into plain BM25.
const BM25 = { k: 0.9, b: 0.4, d: 0 };

// Stored as `pid`: MiniSearch copies stored fields over its own result `id` (here the numeric key).
interface IndexedPassage {
  key: number;
  pid: string;
  title: string;
  text: string;
}

// One field holding title and text, as Pyserini indexes `contents`: BM25 length normalisation then sees
// the whole passage instead of scoring a short title field separately.
const MINISEARCH_OPTIONS: Options<IndexedPassage> = {
  idField: "key",
  fields: ["contents"],
  storeFields: ["pid", "title", "text"],
  extractField: (document, field) =>
    field === "contents" ? `${document.title}\n${document.text}` : (document as unknown as Record<string, unknown>)[field],
  processTerm: analyzeTerm,
  searchOptions: { bm25: BM25, combineWith: "OR" },
};

/** Everything besides the corpus that shapes the stored index; its hash is part of the cache key. */
const INDEX_SETTINGS = { format: 1, fields: MINISEARCH_OPTIONS.fields, storeFields: MINISEARCH_OPTIONS.storeFields, analyzer: ANALYZER_ID };

export interface ScoredPassage extends Passage {
  score: number;
}

export interface Bm25Index {
  /** The top passages by BM25 score, best first. */
  search(query: string, topK: number): ScoredPassage[];
  readonly size: number;
  /** "cache" when the index was loaded from the cache file instead of built from the corpus. */
  readonly source: "built" | "cache";
  readonly cacheFile: string;
  /** Time spent building or loading. */
  readonly loadMs: number;
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

export async function cacheFileFor(corpusPath: string, cacheDir: string): Promise<string> {
  const absolute = path.resolve(corpusPath);
  const info = await stat(absolute);
  const key = sha256(JSON.stringify({ corpus: absolute, size: info.size, mtimeMs: info.mtimeMs, settings: sha256(JSON.stringify(INDEX_SETTINGS)) }));
  const name = path.basename(absolute).replace(/[^\w.-]+/g, "_");
  return path.join(path.resolve(cacheDir), `${name}-${key.slice(0, 24)}.json`);
}

async function readCache(file: string): Promise<MiniSearch<IndexedPassage> | undefined> {
  let json: string;
  try {
    json = await readFile(file, "utf8");
  } catch {
    return undefined;
  }
  try {
    return MiniSearch.loadJSON<IndexedPassage>(json, MINISEARCH_OPTIONS);
  } catch {
    return undefined; // a truncated or foreign file: rebuild over it
  }
}

async function writeCache(file: string, index: MiniSearch<IndexedPassage>): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  // Write then rename, so a concurrent reader never sees half a file.
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, JSON.stringify(index));
  await rename(partial, file);
}

export async function loadBm25Index(corpusPath: string, options: { cacheDir?: string } = {}): Promise<Bm25Index> {
  const started = performance.now();
  const cacheFile = await cacheFileFor(corpusPath, options.cacheDir ?? DEFAULT_SEARCH_CACHE_DIR);
  let index = await readCache(cacheFile);
  const source = index ? "cache" : "built";
  if (!index) {
    const passages = await readPassages(corpusPath);
    index = new MiniSearch<IndexedPassage>(MINISEARCH_OPTIONS);
    index.addAll(passages.map((passage, key) => ({ key, pid: passage.id, title: passage.title, text: passage.text })));
    await writeCache(cacheFile, index);
  }
  const searchable = index;
  return {
    size: searchable.documentCount,
    source,
    cacheFile,
    loadMs: performance.now() - started,
    search(query, topK) {
      // MiniSearch multiplies each score by the number of query terms matched; dividing it back out
      // leaves the plain BM25 sum. Ties go to the earlier passage, so rankings are reproducible.
      const ranked = searchable
        .search(query)
        .map((hit) => ({ hit, score: hit.score / Math.max(1, hit.queryTerms.length) }))
        .sort((a, b) => b.score - a.score || (a.hit.id as number) - (b.hit.id as number));
      return ranked.slice(0, topK).map(({ hit, score }) => ({ id: hit.pid, title: hit.title, text: hit.text, score }));
    },
  };
}
