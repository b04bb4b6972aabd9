// Builds the tools a worker uses from its configuration. Each tool has a local default (bubblewrap
// sandbox, BM25 index) and a remote alternative speaking an existing wire format (SandboxFusion,
// Search-R1's retriever); the rest of the worker only sees the Tool interface.
import { toolsConfigSchema, type ToolsConfig, type ToolsConfigInput } from "../../contracts/index.js";
import { LocalPythonTool } from "./python/local-python-tool.js";
import { SandboxFusionTool } from "./python/sandbox-fusion.js";
import { LocalSearchTool } from "./search/local-search-tool.js";
import { RetrieverSearchTool } from "./search/retriever-client.js";
import type { CountTokens } from "./search/token-count.js";
import type { Tool } from "./types.js";

export { toolsConfigSchema, type ToolsConfig, type ToolsConfigInput };

export interface BuildToolsOptions {
  /** The model's token counter for search budgets (default: a heuristic). */
  countTokens?: CountTokens;
  /** Run one trivial call through a local Python sandbox before handing it out (default true). */
  selfTest?: boolean;
}

/** The configured tools by tag name. */
export class ToolSet {
  private readonly byName = new Map<string, Tool>();

  constructor(tools: Tool[]) {
    for (const tool of tools) this.byName.set(tool.name, tool);
  }

  get(name: string): Tool | undefined {
    return this.byName.get(name);
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  async close(): Promise<void> {
    await Promise.all([...this.byName.values()].map((tool) => tool.close?.()));
  }
}

async function buildPython(config: NonNullable<ToolsConfig["python"]>, options: BuildToolsOptions): Promise<Tool> {
  if (config.kind === "sandbox-fusion") return new SandboxFusionTool({ url: config.url, limits: config });
  const tool = new LocalPythonTool({ limits: config, slots: config.slots, uidBase: config.uidBase, pythonPath: config.pythonPath });
  if (options.selfTest ?? true) await tool.selfTest();
  return tool;
}

async function buildSearch(config: NonNullable<ToolsConfig["search"]>, options: BuildToolsOptions): Promise<Tool> {
  const output = { topK: config.topK, maxTokens: config.maxTokens, countTokens: options.countTokens };
  if (config.kind === "retriever") return new RetrieverSearchTool({ url: config.url, timeoutMs: config.timeoutMs, ...output });
  return LocalSearchTool.open({ corpus: config.corpus, cacheDir: config.cacheDir, ...output });
}

/** Validates the config (throws on invalid config or a local tool that cannot work here) and builds the tools. */
export async function buildTools(config: ToolsConfigInput, options: BuildToolsOptions = {}): Promise<ToolSet> {
  const parsed = toolsConfigSchema.parse(config);
  const tools: Tool[] = [];
  if (parsed.python) tools.push(await buildPython(parsed.python, options));
  if (parsed.search) tools.push(await buildSearch(parsed.search, options));
  return new ToolSet(tools);
}
