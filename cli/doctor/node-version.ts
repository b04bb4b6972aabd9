// Node.js must meet package.json's engines field; older releases lack APIs the server and worker use.
import { type CheckResult, fail, ok } from "./check.js";

export const MIN_NODE = [20, 18] as const;

export function checkNode(version = process.versions.node): CheckResult {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  const [minMajor, minMinor] = MIN_NODE;
  if (major > minMajor || (major === minMajor && minor >= minMinor)) return ok("node", `Node.js ${version}`);
  return fail(
    "node",
    `Node.js ${version} is too old (need ${minMajor}.${minMinor} or later)`,
    `install Node.js ${minMajor}.${minMinor} or later from https://nodejs.org`,
  );
}
