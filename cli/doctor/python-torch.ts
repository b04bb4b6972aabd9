// The learner's Python and its torch, probed in one short-lived process (one import of torch, with a
// timeout) so the preflight stays fast and a hung interpreter cannot hold the worker's start.
import { execFile } from "node:child_process";
import { type CheckResult, fail, ok } from "./check.js";

export const DEFAULT_PYTHON = "/usr/bin/python3";
const PROBE_TIMEOUT_MS = 60_000;

// Prints one JSON line; a missing torch is data, not a traceback.
const PROBE = `
import json, sys
info = {"python": sys.version.split()[0]}
try:
    import torch
    info["torch"] = torch.__version__
    info["threads"] = torch.get_num_threads()
    info["cuda"] = bool(torch.cuda.is_available())
except Exception as e:
    info["error"] = type(e).__name__ + ": " + str(e)
print(json.dumps(info))
`;

interface ProbeOutput {
  python: string;
  torch?: string;
  threads?: number;
  cuda?: boolean;
  error?: string;
}

/** The interpreter the learner will use: --python, else ICRL_PYTHON, else Debian's python3 (as worker/learner does). */
export function learnerPython(flag?: string): string {
  return flag ?? process.env.ICRL_PYTHON ?? DEFAULT_PYTHON;
}

function installTorch(python: string): string {
  return python === DEFAULT_PYTHON
    ? "sudo apt-get install python3-torch"
    : `install torch for ${python} (e.g. ${python} -m pip install torch), or set ICRL_PYTHON / --python to a python that has it`;
}

function probe(python: string, timeoutMs: number): Promise<{ out?: ProbeOutput; error?: string; missing?: boolean }> {
  return new Promise((resolve) => {
    execFile(python, ["-c", PROBE], { timeout: timeoutMs, killSignal: "SIGKILL" }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === "ENOENT") return resolve({ missing: true });
      if (error?.killed) return resolve({ error: `${python} did not answer within ${timeoutMs / 1000} s` });
      try {
        return resolve({ out: JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as ProbeOutput });
      } catch {
        const reason = (stderr.trim().split("\n").at(-1) ?? "") || (error?.message ?? "no output");
        return resolve({ error: `${python} failed: ${reason}` });
      }
    });
  });
}

/** Two results: the interpreter, then torch in it. */
export async function checkPythonTorch(python: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<[CheckResult, CheckResult]> {
  const result = await probe(python, timeoutMs);
  if (result.missing) {
    const fix =
      python === DEFAULT_PYTHON ? "sudo apt-get install python3 python3-torch" : `set ICRL_PYTHON / --python to an existing python with torch`;
    const missing = fail("python", `${python} not found`, fix);
    return [missing, fail("torch", "not checked: no python", fix)];
  }
  if (!result.out)
    return [
      fail("python", result.error ?? `${python} failed`, `check that ${python} runs: ${python} -c 'import torch'`),
      fail("torch", "not checked", installTorch(python)),
    ];
  const py = ok("python", `${python} (Python ${result.out.python})`);
  if (result.out.error || !result.out.torch) {
    return [py, fail("torch", `torch is missing for ${python} (${result.out.error ?? "not importable"})`, installTorch(python))];
  }
  const cuda = result.out.cuda ? ", CUDA" : "";
  return [py, ok("torch", `torch ${result.out.torch}, ${result.out.threads} thread${result.out.threads === 1 ? "" : "s"}${cuda}`)];
}
