// How check results reach the user: a table for `icrl doctor`, one line for a failed preflight.
import type { CheckResult } from "./check.js";

export const anyFailed = (results: CheckResult[]) => results.some((r) => r.status === "fail");

export function formatTable(results: CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.name.length));
  const lines = results.map((r) => {
    const head = `${r.status.toUpperCase().padEnd(4)}  ${r.name.padEnd(width)}  ${r.message}`;
    return r.fix ? `${head}\n      ${" ".repeat(width)}  fix: ${r.fix}` : head;
  });
  return `${lines.join("\n")}\n`;
}

/** The first failure as one line: what is missing and the command that installs it. */
export function failureLine(results: CheckResult[]): string | null {
  const failed = results.find((r) => r.status === "fail");
  return failed ? `${failed.message}; fix: ${failed.fix}` : null;
}
