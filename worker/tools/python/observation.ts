// What the model reads after a code call: stdout, then stderr under a label when there is any, then one
// line naming a failure. Shared by the local sandbox and the SandboxFusion client so a model sees the same
// text whichever runs its code.
import { toolFailure, type ToolError } from "../result.js";
import type { ToolResult } from "../types.js";

const STDERR_LABEL = "[stderr]";
const NO_OUTPUT = "(no output)";

/** Cuts the middle out: the start shows what ran, the end holds the traceback's final exception line. */
export function truncateMiddle(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const marker = `\n...[${text.length - maxChars} characters cut]...\n`;
  const keep = Math.max(0, maxChars - marker.length);
  const head = Math.ceil(keep / 2);
  return text.slice(0, head) + marker + text.slice(text.length - (keep - head));
}

export function formatExecutionObservation(output: { stdout: string; stderr: string }, maxChars: number, error?: ToolError): string {
  const parts: string[] = [];
  if (output.stdout.length > 0) parts.push(output.stdout.replace(/\n$/, ""));
  if (output.stderr.length > 0) parts.push(`${STDERR_LABEL}\n${output.stderr.replace(/\n$/, "")}`);
  if (error) parts.push(`[error ${error.code}] ${error.message}`);
  const text = parts.length > 0 ? parts.join("\n") : NO_OUTPUT;
  return truncateMiddle(text, maxChars);
}

/** A failed call that produced no output (server down, aborted before it ran). */
export function failureWithoutOutput(error: ToolError, maxChars: number, startedAt: number): ToolResult {
  return toolFailure(error, formatExecutionObservation({ stdout: "", stderr: "" }, maxChars, error), startedAt);
}
