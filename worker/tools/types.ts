// The tool contract: every tool (local default or remote client) turns a model-written call into an
// observation. Failures are data, never exceptions: a timeout or a down server becomes an observation
// so one bad call cannot crash a rollout.

export type ToolErrorCode =
  | "TIMEOUT"
  | "MEMORY_LIMIT"
  | "OUTPUT_LIMIT"
  | "PROCESS_LIMIT"
  | "RUNTIME_ERROR"
  | "FORBIDDEN"
  | "UNAVAILABLE"
  | "BAD_INPUT";

export interface ToolResult {
  ok: boolean;
  /** Text returned to the model (inside the observation tags). */
  observation: string;
  error?: { code: ToolErrorCode; message: string };
  durationMs: number;
}

export interface Tool {
  /** Tag name the model uses: <search>...</search>, <python>...</python>. */
  readonly name: string;
  call(input: string, options?: { signal?: AbortSignal }): Promise<ToolResult>;
  close?(): Promise<void>;
}
