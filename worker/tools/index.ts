// The tools' public surface: the registry that builds a run's tools from its config, and the tools
// themselves for code that runs one directly (the tool command, benchmarks).
export { buildTools, ToolSet, toolsConfigSchema, type BuildToolsOptions, type ToolsConfig, type ToolsConfigInput } from "./registry.js";
export type { Tool, ToolErrorCode, ToolResult } from "./types.js";
export { LocalPythonTool, type LocalPythonToolOptions } from "./python/local-python-tool.js";
export { SandboxFusionTool, type SandboxFusionOptions } from "./python/sandbox-fusion.js";
export { LocalSearchTool, type LocalSearchOptions } from "./search/local-search-tool.js";
export { RetrieverSearchTool, type RetrieverClientOptions } from "./search/retriever-client.js";
export { loadBm25Index, type Bm25Index } from "./search/bm25-index.js";
export { analyzeTerm } from "./search/analyzer.js";
