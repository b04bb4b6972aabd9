// The default search tool: BM25 over a local passage corpus, formatted like Search-R1's retriever.
import { toolSuccess } from "../result.js";
import type { Tool, ToolResult } from "../types.js";
import { loadBm25Index, type Bm25Index } from "./bm25-index.js";
import { formatSearchResults } from "./format.js";
import { cleanQuery, emptyQueryFailure, resolveSearchOutput, type SearchOutputOptions } from "./search-options.js";

export interface LocalSearchOptions extends SearchOutputOptions {
  /** Passages file: JSONL of {id, title, text} or {id, contents}. */
  corpus: string;
  /** Where built indexes are cached (default .icrl/cache/search, relative to the working directory). */
  cacheDir?: string;
}

export class LocalSearchTool implements Tool {
  readonly name = "search";
  private readonly output: Required<SearchOutputOptions>;

  /** Serves an index already loaded (several tools, e.g. with different budgets, can share one). */
  constructor(
    readonly index: Bm25Index,
    options: SearchOutputOptions = {},
  ) {
    this.output = resolveSearchOutput(options);
  }

  /** Builds the index (or loads it from the cache); throws if the corpus cannot be read. */
  static async open(options: LocalSearchOptions): Promise<LocalSearchTool> {
    const index = await loadBm25Index(options.corpus, { cacheDir: options.cacheDir });
    return new LocalSearchTool(index, options);
  }

  async call(input: string): Promise<ToolResult> {
    const started = performance.now();
    const query = cleanQuery(input);
    if (query === undefined) {
      return emptyQueryFailure(started);
    }
    const passages = this.index.search(query, this.output.topK);
    return toolSuccess(formatSearchResults(passages, this.output.maxTokens, this.output.countTokens), started);
  }
}
