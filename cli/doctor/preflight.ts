// Run before `icrl worker` and `icrl demo` do any work: a machine without torch (or disk) is refused
// with one line and EXIT.MISSING_REQUIREMENT instead of a stack trace minutes later.
import { EXIT } from "../support/exit-codes.js";
import { type CheckOptions, requiredChecks } from "./checks.js";
import { failureLine } from "./report.js";

export async function preflight(command: string, options: CheckOptions): Promise<void> {
  const line = failureLine(await requiredChecks(options));
  if (!line) return;
  process.stderr.write(`icrl ${command}: ${line} (icrl doctor shows every check)\n`);
  process.exit(EXIT.MISSING_REQUIREMENT);
}
