// Settings shared by both search tools, so the local index and the remote retriever return the same
// number of passages in the same budget.
import { DEFAULT_SEARCH_MAX_TOKENS, DEFAULT_SEARCH_TOP_K } from "../../../contracts/index.js";
import { toolFailure } from "../result.js";
import type { ToolResult } from "../types.js";
import { approximateTokenCount, type CountTokens } from "./token-count.js";

export interface SearchOutputOptions {
  /** Passages per query (default 3, as Search-R1). */
  topK?: number;
  /** Token budget of the whole observation (default 500). */
  maxTokens?: number;
  /** Token counter for the budget; default: approximateTokenCount (a heuristic). */
  countTokens?: CountTokens;
}

export const DEFAULT_TOP_K = DEFAULT_SEARCH_TOP_K;
export const DEFAULT_MAX_TOKENS = DEFAULT_SEARCH_MAX_TOKENS;

export function resolveSearchOutput(options: SearchOutputOptions): Required<SearchOutputOptions> {
  return {
    topK: options.topK ?? DEFAULT_TOP_K,
    maxTokens: options.maxTokens ?? DEFAULT_MAX_TOKENS,
    countTokens: options.countTokens ?? approximateTokenCount,
  };
}

/** The query the model wrote, or undefined when there is nothing to search for. */
export function cleanQuery(input: string): string | undefined {
  const query = input.trim();
  return query === "" ? undefined : query;
}

export function emptyQueryFailure(startedAt: number): ToolResult {
  return toolFailure({ code: "BAD_INPUT", message: "empty search query" }, "Empty search query.", startedAt);
}
