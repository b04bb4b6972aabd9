// The Search-R1 retriever client against a small real HTTP server speaking Search-R1's /retrieve format,
// backed by a BM25 index over Search-R1's own example corpus, plus the ways a server can fail.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadBm25Index, type Bm25Index } from "../../worker/tools/search/bm25-index.js";
import { LocalSearchTool } from "../../worker/tools/search/local-search-tool.js";
import { RetrieverSearchTool } from "../../worker/tools/search/retriever-client.js";
import { closedPort, readJsonBody, searchR1Corpus, sendJson, startHttpServer, type RunningServer } from "./helpers.js";

interface RetrieveRequest {
  queries: string[];
  topk: number;
  return_scores: boolean;
}

let cacheDir: string;
let index: Bm25Index;
let server: RunningServer;
const received: RetrieveRequest[] = [];

/** Search-R1's response: one list per query, each item {document: {id, contents}, score} (or the bare document). */
function retrieve(request: RetrieveRequest) {
  return {
    result: request.queries.map((query) =>
      index.search(query, request.topk).map((hit) => {
        const document = { id: hit.id, contents: `${hit.title}\n${hit.text}` };
        return request.return_scores ? { document, score: hit.score } : document;
      }),
    ),
  };
}

beforeAll(async () => {
  cacheDir = await mkdtemp(path.join(tmpdir(), "icrl-retriever-"));
  index = await loadBm25Index(searchR1Corpus, { cacheDir });
  server = await startHttpServer(async (request, response) => {
    const body = (await readJsonBody(request)) as RetrieveRequest;
    if (request.url === "/retrieve") {
      received.push(body);
      sendJson(response, retrieve(body));
    } else if (request.url === "/no-scores/retrieve") {
      sendJson(response, retrieve({ ...body, return_scores: false }));
    } else if (request.url === "/garbage/retrieve") {
      sendJson(response, { result: [[{ document: { id: "1" } }]] });
    } else if (request.url === "/error500/retrieve") {
      response.writeHead(500).end("index not loaded");
    } else if (request.url === "/huge/retrieve") {
      response.writeHead(200, { "content-type": "application/json" });
      const chunk = Buffer.alloc(1024 * 1024, "a");
      for (let i = 0; i < 12; i++) response.write(chunk);
      response.end();
    }
    // /slow/retrieve never answers
  });
});
afterAll(async () => {
  await server.close();
  await rm(cacheDir, { recursive: true, force: true });
});

describe("Search-R1 retriever client", () => {
  it("sends Search-R1's request and formats exactly like the local index", async () => {
    const remote = new RetrieverSearchTool({ url: server.url, topK: 2 });
    const local = new LocalSearchTool(index, { topK: 2 });
    const query = "lobbyist for Genentech in Washington";
    const result = await remote.call(query);
    expect(result.ok).toBe(true);
    expect(received.at(-1)).toEqual({ queries: [query], topk: 2, return_scores: true });
    expect(result.observation).toMatch(/^Doc 1\(Title: "Evan Morris"\) Evan Morris/);
    expect(result.observation).toBe((await local.call(query)).observation);
  });

  it("accepts the full /retrieve URL from a Search-R1 config and answers without scores", async () => {
    const full = new RetrieverSearchTool({ url: `${server.url}/retrieve`, topK: 1 });
    expect((await full.call("Evan Morris")).observation).toMatch(/^Doc 1\(Title: "Evan Morris"\)/);
    const bare = new RetrieverSearchTool({ url: `${server.url}/no-scores`, topK: 1 });
    expect((await bare.call("Evan Morris")).observation).toMatch(/^Doc 1\(Title: "Evan Morris"\)/);
  });

  it("applies the token budget to remote passages", async () => {
    const remote = new RetrieverSearchTool({ url: server.url, topK: 3, maxTokens: 40 });
    const result = await remote.call("Evan Morris lobbyist");
    expect(result.observation).toMatch(/^Doc 1\(Title: "Evan Morris"\) .* ...\n$/);
    expect(result.observation).not.toContain("Doc 2");
  });

  it("reports an empty query as BAD_INPUT without calling the server", async () => {
    const before = received.length;
    const result = await new RetrieverSearchTool({ url: server.url }).call("  ");
    expect(result.error?.code).toBe("BAD_INPUT");
    expect(received).toHaveLength(before);
  });

  it("turns a closed port into an UNAVAILABLE observation", async () => {
    const port = await closedPort();
    const result = await new RetrieverSearchTool({ url: `http://127.0.0.1:${port}` }).call("anything");
    expect(result.ok).toBe(false);
    expect(result.error?.code).toBe("UNAVAILABLE");
    expect(result.observation).toMatch(/^Search failed: cannot reach .*ECONNREFUSED/);
  });

  it("turns HTTP errors, malformed answers and oversized bodies into errors", async () => {
    const error500 = await new RetrieverSearchTool({ url: `${server.url}/error500` }).call("x");
    expect(error500.error?.code).toBe("UNAVAILABLE");
    expect(error500.error?.message).toContain("HTTP 500: index not loaded");
    const garbage = await new RetrieverSearchTool({ url: `${server.url}/garbage` }).call("x");
    expect(garbage.error?.code).toBe("UNAVAILABLE");
    expect(garbage.error?.message).toContain("unexpected format");
    const huge = await new RetrieverSearchTool({ url: `${server.url}/huge` }).call("x");
    expect(huge.error?.code).toBe("OUTPUT_LIMIT");
  });

  it("turns a server that does not answer into TIMEOUT", async () => {
    const result = await new RetrieverSearchTool({ url: `${server.url}/slow`, timeoutMs: 300 }).call("x");
    expect(result.error?.code).toBe("TIMEOUT");
    expect(result.durationMs).toBeLessThan(3_000);
  });

  it("stops when the caller aborts", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const result = await new RetrieverSearchTool({ url: `${server.url}/slow` }).call("x", { signal: controller.signal });
    expect(result.error).toEqual({ code: "TIMEOUT", message: "the call was aborted by the caller" });
  });
});
