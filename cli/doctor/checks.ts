// The table of checks. `icrl doctor` runs all of them; the preflight of `icrl worker` and `icrl demo`
// runs only the required ones (the fast ones whose absence would fail the first job anyway).
import type { CheckResult } from "./check.js";
import { checkDisk } from "./disk.js";
import { checkGpu } from "./gpu.js";
import { checkNode } from "./node-version.js";
import { checkOpenblas } from "./openblas.js";
import { checkPythonTorch } from "./python-torch.js";
import { checkSandbox } from "./sandbox.js";

export interface CheckOptions {
  /** The learner's interpreter. */
  python: string;
  dataDir: string;
  /** A worker that claims no TRAIN jobs never starts the learner, so torch is not required. */
  needsTorch?: boolean;
}

export async function requiredChecks(options: CheckOptions): Promise<CheckResult[]> {
  const torch = options.needsTorch === false ? [] : await checkPythonTorch(options.python);
  return [checkNode(), ...torch, await checkDisk(options.dataDir)];
}

export async function allChecks(options: CheckOptions): Promise<CheckResult[]> {
  const [node, [python, torch], openblas, sandbox, gpu, disk] = await Promise.all([
    checkNode(),
    checkPythonTorch(options.python),
    checkOpenblas(),
    checkSandbox(),
    checkGpu(),
    checkDisk(options.dataDir),
  ]);
  return [node, python, torch, openblas, sandbox, gpu, disk];
}
