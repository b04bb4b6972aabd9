// Client for Search-R1's retrieval server (POST /retrieve): the remote alternative to the local BM25
// index, e.g. a dense E5 index over all of Wikipedia on another machine. Results are formatted exactly
// as local ones; a down, slow or malformed server becomes an observation.
import { endpointUrl, postJson } from "../http.js";
import { toolFailure, toolSuccess, type ToolError } from "../result.js";
import type { Tool, ToolResult } from "../types.js";
import { formatSearchResults, type TitledText } from "./format.js";
import { splitContents } from "./passages.js";
import { cleanQuery, emptyQueryFailure, resolveSearchOutput, type SearchOutputOptions } from "./search-options.js";

export interface RetrieverClientOptions extends SearchOutputOptions {
  /** Server URL, e.g. http://127.0.0.1:8000 or http://127.0.0.1:8000/retrieve. */
  url: string;
  /** Whole-request deadline (default 10 s). */
  timeoutMs?: number;
}

// Passages are short; this only stops a broken server from streaming without end.
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/** Passages of the first query's result list; undefined when the body is not Search-R1's format. */
function passagesOf(body: unknown): TitledText[] | undefined {
  const result = (body as { result?: unknown } | null)?.result;
  if (!Array.isArray(result) || !Array.isArray(result[0])) return undefined;
  const passages: TitledText[] = [];
  for (const item of result[0] as unknown[]) {
    // With return_scores the server wraps each passage as {document, score}; without, it sends the passage.
    const document = (item as { document?: unknown } | null)?.document ?? item;
    const contents = (document as { contents?: unknown } | null)?.contents;
    if (typeof contents !== "string") return undefined;
    passages.push(splitContents(contents));
  }
  return passages;
}

export class RetrieverSearchTool implements Tool {
  readonly name = "search";
  private readonly endpoint: string;
  private readonly output: Required<SearchOutputOptions>;
  private readonly timeoutMs: number;

  constructor(options: RetrieverClientOptions) {
    this.endpoint = endpointUrl(options.url, "retrieve");
    this.output = resolveSearchOutput(options);
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  async call(input: string, options: { signal?: AbortSignal } = {}): Promise<ToolResult> {
    const started = performance.now();
    const query = cleanQuery(input);
    if (query === undefined) {
      return emptyQueryFailure(started);
    }
    const response = await postJson(
      this.endpoint,
      { queries: [query], topk: this.output.topK, return_scores: true },
      { timeoutMs: this.timeoutMs, maxResponseBytes: MAX_RESPONSE_BYTES, signal: options.signal },
    );
    const failed = (error: ToolError) => toolFailure(error, `Search failed: ${error.message}`, started);
    if (!response.ok) return failed(response.error);
    const passages = passagesOf(response.body);
    if (!passages) return failed({ code: "UNAVAILABLE", message: `${this.endpoint} answered in an unexpected format` });
    const shown = passages.slice(0, this.output.topK);
    return toolSuccess(formatSearchResults(shown, this.output.maxTokens, this.output.countTokens), started);
  }
}
