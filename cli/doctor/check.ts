// One machine check of `icrl doctor` and of the preflight that `icrl worker` and `icrl demo` run first.
// A check never throws: whatever goes wrong becomes its result, so one broken probe cannot hide the others.

export type CheckStatus = "ok" | "warn" | "fail";

export interface CheckResult {
  /** Short name shown in the table: "node", "torch", "disk". */
  name: string;
  status: CheckStatus;
  /** One line: what was found, or what is missing. */
  message: string;
  /** One line: the exact command (or step) that fixes it; absent when nothing needs fixing. */
  fix?: string;
}

export const ok = (name: string, message: string): CheckResult => ({ name, status: "ok", message });
export const warn = (name: string, message: string, fix: string): CheckResult => ({ name, status: "warn", message, fix });
export const fail = (name: string, message: string, fix: string): CheckResult => ({ name, status: "fail", message, fix });
