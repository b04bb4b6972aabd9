// BM25 search over real passage corpora (small copies in test/fixtures/data): ranking, the on-disk index cache, the
// observation format and its token budget.
import { appendFile, copyFile, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadBm25Index, type Bm25Index } from "../../worker/tools/search/bm25-index.js";
import { formatSearchResults } from "../../worker/tools/search/format.js";
import { LocalSearchTool } from "../../worker/tools/search/local-search-tool.js";
import { readPassages, type Passage } from "../../worker/tools/search/passages.js";
import { approximateTokenCount } from "../../worker/tools/search/token-count.js";
import { fixtureData, hotpotPassages, searchR1Corpus } from "./helpers.js";

let cacheDir: string;
let index: Bm25Index;
let passages: Passage[];

beforeAll(async () => {
  cacheDir = await mkdtemp(path.join(tmpdir(), "icrl-search-cache-"));
  index = await loadBm25Index(hotpotPassages, { cacheDir });
  passages = await readPassages(hotpotPassages);
});
afterAll(() => rm(cacheDir, { recursive: true, force: true }));

describe("BM25 index over the HotpotQA passages", () => {
  it("indexes every passage of the corpus", () => {
    expect(passages).toHaveLength(1200); // the first 1,200 of the 4,858 HotpotQA passages
    expect(index.size).toBe(passages.length);
  });

  it("ranks a passage first for a query made of its title and opening words", () => {
    const sample = passages.filter((_, position) => position % 97 === 0);
    for (const passage of sample) {
      const query = `${passage.title} ${passage.text.split(/\s+/).slice(0, 12).join(" ")}`;
      expect(index.search(query, 1)[0].id, query).toBe(passage.id);
    }
  });

  it("finds a supporting passage of a real HotpotQA question", () => {
    const hits = index.search("What government position was held by the woman who portrayed Corliss Archer in the film Kiss and Tell?", 3);
    expect(hits[0]).toMatchObject({ id: "hotpot_dev500_p6", title: "Kiss and Tell (1945 film)" });
    expect(hits.map((hit) => hit.score)).toEqual([...hits.map((hit) => hit.score)].sort((a, b) => b - a));
  });

  it("ignores case, accents and stop words", () => {
    const plain = index.search("meet corliss archer", 3).map((hit) => hit.id);
    expect(index.search("The MEET of Córliss Archer", 3).map((hit) => hit.id)).toEqual(plain);
    expect(index.search("the of and", 3)).toEqual([]);
  });
});

describe("index cache", () => {
  it("is written on the first build and reused, unchanged, by the next load", async () => {
    expect(index.source).toBe("built");
    const written = await stat(index.cacheFile);
    const again = await loadBm25Index(hotpotPassages, { cacheDir });
    expect(again.source).toBe("cache");
    expect(again.cacheFile).toBe(index.cacheFile);
    expect((await stat(again.cacheFile)).mtimeMs).toBe(written.mtimeMs);
    const query = "Shirley Temple Chief of Protocol";
    expect(again.search(query, 3)).toEqual(index.search(query, 3));
  });

  it("is rebuilt when the corpus changes", async () => {
    const corpus = path.join(cacheDir, "corpus.jsonl");
    await copyFile(searchR1Corpus, corpus);
    const first = await loadBm25Index(corpus, { cacheDir });
    expect(first.source).toBe("built");
    await appendFile(corpus, `${JSON.stringify({ id: "new", contents: '"Zanzibar Quokka"\nA quokka that lives in Zanzibar.' })}\n`);
    const changed = await loadBm25Index(corpus, { cacheDir });
    expect(changed.source).toBe("built");
    expect(changed.cacheFile).not.toBe(first.cacheFile);
    expect(changed.search("quokka", 1)[0].id).toBe("new");
  });

  it("is rebuilt over a damaged cache file", async () => {
    const corpus = path.join(cacheDir, "damaged.jsonl");
    await copyFile(searchR1Corpus, corpus);
    const first = await loadBm25Index(corpus, { cacheDir });
    await writeFile(first.cacheFile, "{ not an index");
    const second = await loadBm25Index(corpus, { cacheDir });
    expect(second.source).toBe("built");
    expect(JSON.parse(await readFile(second.cacheFile, "utf8"))).toHaveProperty("documentCount", 10);
  });
});

describe("local search tool", () => {
  it("formats the top 3 passages the way Search-R1 does", async () => {
    const tool = await LocalSearchTool.open({ corpus: hotpotPassages, cacheDir, maxTokens: 10_000 });
    expect(tool.index.source).toBe("cache");
    expect(tool.index.cacheFile).toBe(index.cacheFile);
    const result = await tool.call("  Kiss and Tell 1945 film Shirley Temple  ");
    expect(result.ok).toBe(true);
    const lines = result.observation.split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^Doc 1\(Title: Kiss and Tell \(1945 film\)\) Kiss and Tell is a 1945 American comedy film/);
    expect(lines[1]).toMatch(/^Doc 2\(Title: /);
    expect(lines[2]).toMatch(/^Doc 3\(Title: /);
    expect(lines[3]).toBe("");
  });

  it("keeps Search-R1 titles (first line of contents) as they are", async () => {
    const tool = await LocalSearchTool.open({ corpus: searchR1Corpus, cacheDir, topK: 1 });
    const result = await tool.call("Evan Morris lobbyist Genentech");
    expect(result.observation).toMatch(/^Doc 1\(Title: "Evan Morris"\) Evan Morris Evan L\. Morris/);
  });

  it("reads a JSON array corpus (HippoRAG's 2Wiki passages)", async () => {
    const hippo = JSON.parse(await readFile(path.join(fixtureData, "wiki_passages", "hipporag_2wikimultihopqa_corpus_head300.json"), "utf8"));
    const corpus = path.join(cacheDir, "hipporag-head.json");
    await writeFile(corpus, JSON.stringify(hippo.slice(0, 300), null, 2));
    const tool = await LocalSearchTool.open({ corpus, cacheDir, topK: 1 });
    const result = await tool.call("Teutberga queen of Lotharingia");
    expect(result.observation).toMatch(/^Doc 1\(Title: Teutberga\) Teutberga/);
  });

  it("returns topK passages", async () => {
    const tool = new LocalSearchTool(index, { topK: 5, maxTokens: 100_000 });
    const result = await tool.call("American film director");
    expect(result.observation.match(/^Doc \d\(Title: /gm)).toHaveLength(5);
  });

  it("cuts the observation to the token budget at a word boundary", async () => {
    const tool = new LocalSearchTool(index, { maxTokens: 60 });
    const result = await tool.call("Kiss and Tell 1945 film Shirley Temple");
    expect(approximateTokenCount(result.observation)).toBeLessThanOrEqual(60);
    expect(approximateTokenCount(result.observation)).toBeGreaterThan(45);
    expect(result.observation).toMatch(/^Doc 1\(Title: Kiss and Tell \(1945 film\)\) Kiss and Tell is a 1945 .*\S ...\n$/);
    expect(result.observation).not.toContain("Doc 2");
  });

  it("measures the budget with the tokenizer it is given", async () => {
    const countCharacters = (text: string) => text.length;
    const tool = new LocalSearchTool(index, { maxTokens: 700, countTokens: countCharacters });
    const result = await tool.call("Kiss and Tell 1945 film Shirley Temple");
    expect(result.observation.length).toBeLessThanOrEqual(700);
    expect(result.observation.length).toBeGreaterThan(600);
    expect(result.observation).toContain("Doc 2(Title: ");
  });

  it("reports an empty query as BAD_INPUT and a query without matches as no results", async () => {
    const tool = new LocalSearchTool(index);
    expect((await tool.call("   ")).error?.code).toBe("BAD_INPUT");
    expect(await tool.call("xqzvbnmwpl")).toMatchObject({ ok: true, observation: "No results found." });
  });

  it("drops a passage that cannot show any of its text within the budget", () => {
    const text = formatSearchResults(
      [
        { title: "First", text: "one two three" },
        { title: "Second", text: "four five six seven eight" },
      ],
      12,
      approximateTokenCount,
    );
    expect(text).toBe("Doc 1(Title: First) one two three\n");
  });
});
