// Client for a SandboxFusion server (POST /run_code): the remote alternative to the local sandbox. The
// server's answer is mapped through the same output cap, classification and observation format as a local
// run, so a model cannot tell which one ran its code. Down or slow servers become observations.
import { endpointUrl, postJson } from "../http.js";
import { toolFailure, toolSuccess } from "../result.js";
import type { Tool, ToolResult } from "../types.js";
import { classifyRun } from "./classify.js";
import { resolvePythonLimits, type PythonLimits, type PythonLimitsInput } from "./limits.js";
import { failureWithoutOutput, formatExecutionObservation } from "./observation.js";
import { OutputBudget } from "./output-budget.js";
import type { ProcessRun } from "./run-process.js";

export interface SandboxFusionOptions {
  /** Server base URL, e.g. http://localhost:8080 (the client posts to <url>/run_code, or to url itself if it ends so). */
  url: string;
  limits?: PythonLimitsInput;
  /** Time allowed for queueing and the HTTP round trip on top of the run timeout. */
  requestOverheadS?: number;
}

interface RunResult {
  status?: string;
  stdout?: string | null;
  stderr?: string | null;
  return_code?: number | null;
  execution_time?: number | null;
}

// Leaves room for JSON escaping around an output that is itself capped at outputBytes.
const MIN_RESPONSE_BYTES = 1024 * 1024;

function runResultOf(body: unknown): RunResult | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const result = (body as { run_result?: unknown }).run_result;
  return typeof result === "object" && result !== null ? (result as RunResult) : undefined;
}

export class SandboxFusionTool implements Tool {
  readonly name = "python";
  readonly limits: PythonLimits;
  private readonly endpoint: string;
  private readonly requestOverheadS: number;

  constructor(options: SandboxFusionOptions) {
    this.limits = resolvePythonLimits(options.limits);
    this.endpoint = endpointUrl(options.url, "run_code");
    this.requestOverheadS = options.requestOverheadS ?? 10;
  }

  async call(input: string, options: { signal?: AbortSignal } = {}): Promise<ToolResult> {
    const started = performance.now();
    const limits = this.limits;
    const response = await postJson(
      this.endpoint,
      { code: input, language: "python", run_timeout: limits.timeoutS, memory_limit_MB: limits.memoryMb },
      {
        timeoutMs: (limits.timeoutS + this.requestOverheadS) * 1000,
        maxResponseBytes: Math.max(MIN_RESPONSE_BYTES, limits.outputBytes * 16),
        signal: options.signal,
      },
    );
    if (!response.ok) {
      return failureWithoutOutput(response.error, limits.observationChars, started);
    }
    const result = runResultOf(response.body);
    // SandboxError is the sandbox failing, not the program: whatever run_result it carries (say, the
    // executor's own "Too many open files") must never reach the model as its program's stderr.
    const sandboxFailed = (response.body as { status?: unknown } | null)?.status === "SandboxError";
    if (!result || sandboxFailed) {
      const status = (response.body as { status?: unknown } | null)?.status;
      const message = (response.body as { message?: unknown } | null)?.message;
      const error = {
        code: "UNAVAILABLE" as const,
        message: sandboxFailed
          ? `the SandboxFusion server failed to run the code (SandboxError${message ? `: ${String(message)}` : ""})`
          : `SandboxFusion returned no run result (status ${String(status)}${message ? `: ${String(message)}` : ""})`,
      };
      return failureWithoutOutput(error, limits.observationChars, started);
    }

    const budget = new OutputBudget(limits.outputBytes);
    const withinBudget =
      budget.add(budget.stdout, Buffer.from(result.stdout ?? "", "utf8")) && budget.add(budget.stderr, Buffer.from(result.stderr ?? "", "utf8"));
    const run: ProcessRun = {
      ...budget.text(),
      exitCode: result.return_code ?? (result.status === "Finished" ? 0 : 1),
      signal: null,
      timedOut: result.status === "TimeLimitExceeded",
      outputLimited: !withinBudget,
      aborted: false,
      durationMs: performance.now() - started,
    };
    const error = classifyRun(run, limits);
    const observation = formatExecutionObservation(run, limits.observationChars, error);
    return error ? toolFailure(error, observation, started) : toolSuccess(observation, started);
  }
}
