// The project's real BM25 search tool over a small corpus written for these tests, plus a thin
// wrapper that records the queries a rollout sent.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { LocalSearchTool } from "../../worker/tools/search/local-search-tool.js";
import type { Tool } from "../../worker/tools/types.js";

export const SMALL_CORPUS = [
  { id: "1", title: "Paris", text: "Paris is the capital and largest city of France." },
  { id: "2", title: "Lyon", text: "Lyon is the third-largest city of France, on the Rhône." },
  { id: "3", title: "Berlin", text: "Berlin is the capital and largest city of Germany." },
  { id: "4", title: "Mount Everest", text: "Mount Everest is Earth's highest mountain above sea level." },
];

/** Opens the real search tool over SMALL_CORPUS in a fresh temporary directory (index cache included). */
export async function openSmallSearch(): Promise<{ tool: LocalSearchTool; cleanup: () => void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "icrl-search-"));
  const corpus = path.join(dir, "corpus.jsonl");
  fs.writeFileSync(corpus, SMALL_CORPUS.map((p) => JSON.stringify(p)).join("\n") + "\n");
  const tool = await LocalSearchTool.open({ corpus, cacheDir: path.join(dir, "cache") });
  return { tool, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export interface RecordingTool extends Tool {
  calls: string[];
}

/** Delegates to `tool`, remembering each input. */
export function recording(tool: Tool): RecordingTool {
  const calls: string[] = [];
  return {
    name: tool.name,
    calls,
    call: (input, options) => {
      calls.push(input);
      return tool.call(input, options);
    },
  };
}
