// Small constructors for ToolResult so every tool reports success and failure the same way.
import type { ToolResult } from "./types.js";

export type ToolError = NonNullable<ToolResult["error"]>;

export function toolSuccess(observation: string, startedAt: number): ToolResult {
  return { ok: true, observation, durationMs: performance.now() - startedAt };
}

export function toolFailure(error: ToolError, observation: string, startedAt: number): ToolResult {
  return { ok: false, observation, error, durationMs: performance.now() - startedAt };
}
